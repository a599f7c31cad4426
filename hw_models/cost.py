"""The cost interface shared by every device kernel: the slots of a per-op cost record.

A kernel fills a float64 array of ``N_OUT`` slots per (design point, op): time of one instance, energy by component
(compute, L2/on-chip, DRAM, interconnect, static), DRAM and on-chip bytes, the binding resource, the achieved fraction
of peak, and the mapping it chose: ``O_MAPPING`` is a device-specific index (-1 when the op has a fixed kernel) and
``O_MAP_0 .. O_MAP_4`` carry further mapping fields (a spatial mapping's dataflow, loop order and tile sizes).
For devices without an L2, ``O_E_L2`` / ``O_L2_BYTES`` hold the on-chip buffer level.
"""

(O_TIME, O_E_COMPUTE, O_E_L2, O_E_DRAM, O_E_LINK, O_E_STATIC, O_BOUND, O_UTIL, O_DRAM_BYTES, O_L2_BYTES, O_MAPPING,
 O_MAP_0, O_MAP_1, O_MAP_2, O_MAP_3, O_MAP_4) = range(16)
N_OUT = 16

B_COMPUTE, B_DRAM, B_L2, B_LAUNCH, B_LINK, B_POWER, B_SFU = range(7)
BOUND_NAMES = ("compute", "memory", "l2", "launch", "interconnect", "power", "sfu")
