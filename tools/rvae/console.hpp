// What the CLI asks of the system about its arguments and its terminal: console_posix.cpp and
// console_win32.cpp answer (on Windows: the wide command line, console handles, code pages).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace rvae::cli {

/// The arguments after the program name, in UTF-8 (on Windows from the wide command line: the
/// narrow argv holds the ANSI code page's approximation of names outside it).
std::vector<std::string> utf8_arguments(int argc, char** argv);

/// Readies the standard streams: binary standard input and output (images and latents go
/// through them), and on Windows a console that shows UTF-8 and understands the escape
/// sequences the progress bar draws with.
void prepare_standard_streams();

/// True when `stream` is a terminal (a console on Windows).
bool is_terminal(std::FILE* stream);

/// The width of the terminal behind `stream`, or 0 when it cannot be told.
int terminal_columns(std::FILE* stream);

}  // namespace rvae::cli
