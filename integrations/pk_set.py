"""A set of primary keys as a bitmap: 1 bit per id up to the largest added (125 kB per million ids),
where a Python set of ints or strings costs ~60-100 bytes per member."""

from __future__ import annotations

from collections.abc import Iterator


class PkSet:
    def __init__(self) -> None:
        self.bits = bytearray()
        self.size = 0

    def add(self, pk: int) -> None:
        byte, bit = divmod(pk, 8)
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits))))  # grow by doubling
        if not self.bits[byte] >> bit & 1:
            self.bits[byte] |= 1 << bit
            self.size += 1

    def __contains__(self, pk: object) -> bool:
        if not isinstance(pk, int) or pk < 0:
            return False
        byte, bit = divmod(pk, 8)
        return byte < len(self.bits) and bool(self.bits[byte] >> bit & 1)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        """The ids in ascending order."""
        for byte, value in enumerate(self.bits):
            if value:
                yield from (byte * 8 + bit for bit in range(8) if value >> bit & 1)
