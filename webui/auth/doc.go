// Package auth holds the web UI's credentials: the admin password (argon2id),
// the one-time setup token that replaces a default password, the API tokens
// scripts use, and the small state file that keeps the first and last.
//
// There is no default password. Until an admin password exists the box
// issues a setup token, prints it on the console, and accepts it once to set
// the password. Whoever can read the console owns the box anyway.
package auth
