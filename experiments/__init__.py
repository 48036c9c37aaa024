"""What the root scripts run beyond the sheet's library: the pen-and-paper network, deep chains with skip
connections, momentum, input scales and L-BFGS on XOR. Everything here is built from lib/ and imports it;
nothing in lib/ imports this package.
"""
