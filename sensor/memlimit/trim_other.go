//go:build !linux

package memlimit

// TrimStartup does nothing outside Linux.
func TrimStartup() (int64, error) { return 0, nil }
