package sockfilter

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go@v0.22.0 -target bpfel -go-package sockfilter bpf sockfilter.c -- -I../include -Wall -Werror
