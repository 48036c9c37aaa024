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
rem The points plugin writes the test that is running to this file, then "table" once the points table is printed:
rem a run that a gap ended (os._exit, a crash, a time-out, which ends Python on Windows) can exit 0 without either.
set "POINTS_STATUS_FILE=%TEMP%\runtests-status-%RANDOM%-%RANDOM%.txt"
if exist "%POINTS_STATUS_FILE%" del "%POINTS_STATUS_FILE%"
call %RUN% -m pytest %*
set TESTS=%ERRORLEVEL%
set "ENDED="
set "DURING="
set "LAST="
if exist "%POINTS_STATUS_FILE%" set /p LAST=<"%POINTS_STATUS_FILE%"
if defined LAST if not "%LAST%"=="table" set ENDED=1
if defined ENDED for /f "usebackq tokens=1,*" %%A in ("%POINTS_STATUS_FILE%") do if "%%A"=="running" set "DURING= during %%B"
if exist "%POINTS_STATUS_FILE%" del "%POINTS_STATUS_FILE%"
echo.
rem pycodestyle reads its settings (the line length) from setup.cfg.
echo pycodestyle .
call %RUN% -m pycodestyle .
set STYLE=%ERRORLEVEL%
if "%STYLE%"=="0" echo code style: clean
if defined ENDED echo runtests: FAILED: the test run ended%DURING% before it printed the points table ^(os._exit, a crash, or a time-out that ended Python^)
if defined ENDED exit /b 1
set "FAILED="
if not "%TESTS%"=="0" set FAILED=1
if not "%STYLE%"=="0" set FAILED=1
if defined FAILED echo runtests: FAILED ^(pytest exit %TESTS%, pycodestyle exit %STYLE%^)
if defined FAILED exit /b 1
echo runtests: all passed
exit /b 0
