//go:build !linux

package thp

// Enable does nothing outside Linux.
func Enable(reserve int) (Result, error) { return Result{}, nil }
