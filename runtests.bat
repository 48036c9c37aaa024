@echo off
rem Runs the tests, then the code-style check. Exits non-zero if either fails.
rem Extra arguments go to pytest, e.g. runtests.bat -m relu_backward
rem Another Python: set PYTHON=C:\Python38\python.exe (or set PYTHON=python3), then runtests.bat
rem Without setlocal the cd and the variables below would stay in the prompt that ran this.
setlocal
rem ver clears ERRORLEVEL, so that the check after cd sees cd's own failure only: cd may leave it as it was.
ver >nul
cd /d "%~dp0"
if errorlevel 1 exit /b 1
rem Every Python command goes through "call": a python.bat on PATH (a conda or pyenv-win shim) run without it
rem would end this script for good, before the code-style check.
set "RUN="
rem Quoted, so that a path with spaces stays one; any quotes the user typed around it are dropped first.
if defined PYTHON set "RUN="%PYTHON:"=%""
rem python is tried, not looked up on PATH: the Microsoft Store's python.exe alias is there without a Python
rem and only says so. The fallback is the py launcher that python.org's installer brings.
if not defined RUN call python --version >nul 2>&1
if not defined RUN if "%ERRORLEVEL%"=="0" set "RUN=python"
if not defined RUN call py -3 --version >nul 2>&1
if not defined RUN if "%ERRORLEVEL%"=="0" set "RUN=py -3"
if not defined RUN echo runtests: found no Python: neither python nor py -3 runs. Install Python 3.8 or newer, or set PYTHON to its python.exe, e.g. set PYTHON=C:\Python38\python.exe 1>&2
if not defined RUN exit /b 1
call %RUN% -m pytest %*
set TESTS=%ERRORLEVEL%
echo.
rem pycodestyle reads its settings (the line length) from setup.cfg.
echo pycodestyle .
call %RUN% -m pycodestyle .
set STYLE=%ERRORLEVEL%
if "%STYLE%"=="0" echo code style: clean
set "FAILED="
if not "%TESTS%"=="0" set FAILED=1
if not "%STYLE%"=="0" set FAILED=1
if defined FAILED echo runtests: FAILED ^(pytest exit %TESTS%, pycodestyle exit %STYLE%^)
if defined FAILED exit /b 1
echo runtests: all passed
exit /b 0
