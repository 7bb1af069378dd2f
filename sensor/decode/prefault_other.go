//go:build !linux

package decode

// PrefaultTables does nothing off Linux.
func PrefaultTables() error { return nil }
