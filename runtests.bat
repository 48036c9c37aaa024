@echo off
rem Runs the tests, then the code-style check. Exits non-zero if either fails.
rem Extra arguments go to pytest, e.g. runtests.bat -m relu_backward
cd /d "%~dp0"
python -m pytest %*
set TESTS=%ERRORLEVEL%
echo.
rem pycodestyle reads its settings (the line length) from setup.cfg.
echo pycodestyle .
python -m pycodestyle .
set STYLE=%ERRORLEVEL%
if not "%TESTS%"=="0" goto failed
if not "%STYLE%"=="0" goto failed
echo runtests: all passed
exit /b 0
:failed
echo runtests: FAILED (pytest exit %TESTS%, pycodestyle exit %STYLE%)
exit /b 1
