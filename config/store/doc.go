// Package store keeps Rampart's configuration on the USB stick safely and
// with history. It stores bytes; it knows nothing of the config types.
//
// # Layout
//
// A store is one directory, normally the root of the RAMPART stick:
//
//	rampart.yaml              the current config, plain, for an admin on a PC
//	history/00000042.yaml     one file per saved version, newest has the highest id
//	.rampart-store-tmp-*      debris of an interrupted write, removed by Open
//
// # Version files
//
// A version file is a comment header followed by the config bytes, so the
// file as a whole is still the same YAML document and an admin can read it:
//
//	# rampart-store-v1 sha256=<64 hex digits>
//	# id: 42
//	# time: 2026-03-01T12:00:00Z
//	# author: "alice"
//	# source: "192.0.2.10"
//	# message: "allow ssh from lan"
//	# replaces: <sha256 of rampart.yaml before this save, or none>
//	# length: 1834
//	<empty line>
//	<exactly length bytes of config>
//
// The sha256 on the first line covers the rest of the file, header and body,
// so `tail -n +2 FILE | sha256sum` checks it by hand. Keys come in this order,
// each once; author, source and message are Go-quoted strings. The id must
// match the file name. Anything else is corrupt and is skipped with a reason.
//
// # Writes
//
// Every file is written to a temporary file in the same directory, fsynced,
// renamed over its final name, and then the directory is fsynced. Save first
// writes the new version file (that rename is the commit), then replaces
// rampart.yaml the same way, then prunes the oldest versions beyond
// Options.Keep. Ids never go down: the next id is one above the highest id
// on disk, corrupt files included, and the newest file is never pruned.
//
// Guarantees. Against a killed process (crash, SIGKILL, OOM) both ext4 and
// vfat give all-or-nothing renames, so Load always finds the last completed
// Save. Against power loss, ext4 (journaled) gives the same once Save has
// returned. vfat has no journal: a rename or the FAT itself may be torn by a
// power cut mid-write, which is why every version carries a checksum and Load
// falls back to the newest version that verifies.
//
// # Hand edits
//
// An admin may edit rampart.yaml on a PC. The store compares rampart.yaml
// with the newest version that verifies: if the bytes are equal it is
// current; if its sha256 equals that version's "replaces" hash, a Save was
// interrupted between its two renames and the version wins; otherwise it is a
// hand edit. A hand edit is recorded as a new version (source "hand-edit") as
// soon as Load or Save sees it, so it is the newest version and is never lost.
// One case cannot be told apart: a hand edit that restores exactly the bytes
// rampart.yaml held before the newest Save is taken for an interrupted Save
// and ignored; revert through the history instead. A missing rampart.yaml is
// not an edit; the next Save writes it again.
//
// A Store is safe for concurrent use by one process. Two processes must not
// write the same store.
package store
