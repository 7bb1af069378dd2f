#!/usr/bin/python3
"""Write deterministic synthetic pixel data (ct.raw, mr.raw, sc.raw) into the
directory given as argv[1]. Standard library only."""
import os, struct, sys

out = sys.argv[1] if len(sys.argv) > 1 else "."

def w(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)

# CT: 16x16, 12 bits stored, a diagonal gradient (little endian OW)
w("ct.raw", b"".join(struct.pack("<H", (x * 128 + y * 64) & 0x0FFF)
                     for y in range(16) for x in range(16)))
# MR: 16x16, 16 bits, a centred "disc"
w("mr.raw", b"".join(struct.pack("<H", 1000 if (x - 7.5) ** 2 + (y - 7.5) ** 2 < 36 else 50)
                     for y in range(16) for x in range(16)))
# SC: 160x160, 8 bits, a checkerboard with a gradient (about 25 KB, so a C-STORE spans several P-DATA PDUs)
w("sc.raw", bytes((200 if ((x // 8) + (y // 8)) % 2 else 0) + (x + y) % 56
                  for y in range(160) for x in range(160)))
