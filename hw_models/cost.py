"""The cost interface shared by every device kernel: the named fields of a per-op cost record.

A kernel fills a float64 array of ``N_OUT`` slots per (design point, op); ``FIELDS`` names the slots and each name
means the same on every kind (docs/COST_RECORD.md has the full table):

============================  ===========================================================================================
field                         meaning (gpu / spatial, fpga / pim / logic_pim / iot / cpu)
============================  ===========================================================================================
``time_s``                    time of one instance of the op, s
``energy_compute_j``          arithmetic energy (tensor/vector cores; MACs + register/local-buffer reads; PIM multipliers;
                              Logic-PIM MACs + softmax ops; IoT core cycles; CPU SIMD FLOPs and scalar instructions)
``energy_onchip_j``           on-chip SRAM energy (GPU L2; global buffer; 0 on bank PIM; Logic-PIM module + shared
                              buffers; IoT L1 accesses + L2↔L1 DMA bytes; CPU bytes served from a cache level)
``energy_offchip_j``          main-memory energy (HBM/DRAM/LPDDR; PIM activations + column reads + bus I/O; Logic-PIM
                              in-stack DRAM; IoT L3; CPU DRAM)
``energy_link_j``             device-to-device link energy (GPU NVLink collectives; 0 elsewhere)
``energy_static_j``           static (idle/leakage) power × ``time_s``
``bound``                     the binding resource, an index into the kind's ``bound_names``
``utilization``               achieved fraction of the kind's peak arithmetic rate
``bytes_offchip``             bytes crossing the main-memory interface (PIM: the channel bus; IoT: L3)
``bytes_onchip``              bytes moved at the on-chip SRAM level counted in ``energy_onchip_j`` (GPU L2; global buffer;
                              0 on bank PIM; Logic-PIM buffers; IoT L2↔L1 DMA)
``bytes_in_memory``           bytes read inside the memory arrays by near-bank compute (PIM row buffer → multipliers);
                              0 on kinds without in-memory compute
``mapping``                   -1 for a fixed kernel, else a kind-specific mapping index (GPU tile index; 0 otherwise)
``map_0 .. map_4``            further mapping fields (spatial: dataflow, loop order, tile m/n/k; IoT: order, L1 tile
                              m/n; Logic-PIM: weight passes); 0 when unused
============================  ===========================================================================================
"""

FIELDS = ("time_s", "energy_compute_j", "energy_onchip_j", "energy_offchip_j", "energy_link_j", "energy_static_j",
          "bound", "utilization", "bytes_offchip", "bytes_onchip", "bytes_in_memory", "mapping",
          "map_0", "map_1", "map_2", "map_3", "map_4")
(O_TIME, O_E_COMPUTE, O_E_ONCHIP, O_E_OFFCHIP, O_E_LINK, O_E_STATIC, O_BOUND, O_UTIL, O_BYTES_OFFCHIP, O_BYTES_ONCHIP,
 O_BYTES_IN_MEMORY, O_MAPPING, O_MAP_0, O_MAP_1, O_MAP_2, O_MAP_3, O_MAP_4) = range(17)
N_OUT = len(FIELDS)
ENERGY_FIELDS = (O_E_COMPUTE, O_E_ONCHIP, O_E_OFFCHIP, O_E_LINK, O_E_STATIC)
# Slots that add up when one op is the sum of several parts (attention = two GEMMs + softmax, a split op).
ADDITIVE_FIELDS = (O_TIME, *ENERGY_FIELDS, O_BYTES_OFFCHIP, O_BYTES_ONCHIP, O_BYTES_IN_MEMORY)

B_COMPUTE, B_DRAM, B_L2, B_LAUNCH, B_LINK, B_POWER, B_SFU = range(7)
BOUND_NAMES = ("compute", "memory", "l2", "launch", "interconnect", "power", "sfu")
