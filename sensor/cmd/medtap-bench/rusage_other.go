//go:build !unix

package main

import "os"

// maxRSSMiB is not available here.
func maxRSSMiB(*os.ProcessState) float64 { return 0 }
