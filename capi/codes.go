package main

// Status codes, mirroring enum sandlock_status in include/sandlock.h. A test
// parses the header and checks that every value matches; the C side never
// sees these constants, only the numbers they stand for.
const (
	codeOK        = 0
	codeEINVAL    = -1
	codeEPOLICY   = -2
	codeENOTSUP   = -3
	codeESPAWN    = -4
	codeECONFINE  = -5
	codeESTATE    = -6
	codeETIMEOUT  = -7
	codeEOS       = -8
	codeENOMEM    = -9
	codeEINTERNAL = -10
	codeENOTIMPL  = -11
)

// codeNames maps each code to its name in the header, for tests and for
// messages that must name a code.
var codeNames = map[int]string{
	codeOK:        "SANDLOCK_OK",
	codeEINVAL:    "SANDLOCK_EINVAL",
	codeEPOLICY:   "SANDLOCK_EPOLICY",
	codeENOTSUP:   "SANDLOCK_ENOTSUP",
	codeESPAWN:    "SANDLOCK_ESPAWN",
	codeECONFINE:  "SANDLOCK_ECONFINE",
	codeESTATE:    "SANDLOCK_ESTATE",
	codeETIMEOUT:  "SANDLOCK_ETIMEOUT",
	codeEOS:       "SANDLOCK_EOS",
	codeENOMEM:    "SANDLOCK_ENOMEM",
	codeEINTERNAL: "SANDLOCK_EINTERNAL",
	codeENOTIMPL:  "SANDLOCK_ENOTIMPL",
}

// Enumerations of the header that arguments are checked against; a test
// compares them with the header too.
const (
	streamStdin  = 0 // SANDLOCK_STDIN
	streamStdout = 1 // SANDLOCK_STDOUT
	streamStderr = 2 // SANDLOCK_STDERR

	stdioInherit = 0 // SANDLOCK_STDIO_INHERIT
	stdioCapture = 1 // SANDLOCK_STDIO_CAPTURE
	stdioNull    = 2 // SANDLOCK_STDIO_NULL
	stdioFD      = 3 // SANDLOCK_STDIO_FD

	fsIsolationNone      = 0 // SANDLOCK_FS_ISOLATION_NONE
	fsIsolationOverlayFS = 1 // SANDLOCK_FS_ISOLATION_OVERLAYFS
	fsIsolationBranchFS  = 2 // SANDLOCK_FS_ISOLATION_BRANCHFS

	branchCommit = 0 // SANDLOCK_BRANCH_COMMIT
	branchAbort  = 1 // SANDLOCK_BRANCH_ABORT
	branchKeep   = 2 // SANDLOCK_BRANCH_KEEP

	reasonExited   = 0 // SANDLOCK_REASON_EXITED
	reasonSignaled = 1 // SANDLOCK_REASON_SIGNALED
	reasonKilled   = 2 // SANDLOCK_REASON_KILLED
	reasonTimeout  = 3 // SANDLOCK_REASON_TIMEOUT
	reasonMemory   = 4 // SANDLOCK_REASON_MEMORY_LIMIT
)
