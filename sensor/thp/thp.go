// Package thp backs the Go heap with transparent huge pages on Linux
// kernels that give them only to memory that asks (the "madvise" mode,
// the default of many distributions).
//
// The Go runtime does not ask: since Go 1.21.1 it leaves its heap on the
// kernel's default. In madvise mode that means 4 KiB pages, and a run that
// grows its heap to 60 MiB takes some 15,000 page faults. Under a
// hypervisor each fault costs several microseconds, so on the reference
// VM they were a tenth of medtap's CPU time. Asking for huge pages turns
// them into a few dozen 2 MiB faults.
//
// The runtime maps heap memory as it grows, and a new mapping does not
// inherit the advice. Enable therefore first makes the runtime map a
// reserve of heap address space (one large allocation, never written and
// so never resident), advises the mapping that holds it, and lets it go:
// the heap then grows into advised memory up to the reserve. Past it,
// memory falls back to small pages; nothing else changes.
package thp

// DefaultReserve is how much heap Enable maps up front: more than the
// peak heap of an offline run of the 1 GiB benchmark capture (about
// 60 MiB), so that all of it is advised. It costs address space only.
const DefaultReserve = 64 << 20

// Result says what Enable did.
type Result struct {
	// Mode is the kernel's transparent huge page mode: "always",
	// "madvise", "never", or "" where there is none (not Linux, or no
	// THP support).
	Mode string
	// Advised is the number of heap bytes advised (0 unless Mode is
	// "madvise").
	Advised int
}
