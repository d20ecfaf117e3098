#pragma once
// `parley passwd`: makes the password hash line for the server's users file.

namespace parley::client {

// Reads a password (from the terminal without echo, twice, or one line from stdin when it
// is not a terminal) and prints its PHC hash line on stdout. The exit code: 0, or 2 when
// the password is empty or the two entries differ, or 1 when hashing fails.
int run_passwd();

}  // namespace parley::client
