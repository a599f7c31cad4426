"""The Logic-PIM kind's packed parameter vector: slot names and indices (SI units), shared by its spec packing
(``hw_models.logic_pim``) and its DRAM timing (``hw_models.logic_pim_dram``)."""

# dram_bw: the banks' whole-row streaming rate (hw_models.logic_pim_dram.bank_bandwidth), the rate the kind declares it
# draws from a memory shared with other units.
P_NAMES = ("stacks", "modules", "macs_per_module", "clock_hz", "softmax_ops_s", "module_buffer_bytes",
           "input_buffer_bytes", "output_buffer_bytes", "softmax_buffer_bytes", "capacity_bytes", "external_bw",
           "internal_bw", "idle_w", "e_mac", "e_softmax_op", "e_dram_byte", "e_module_buffer_byte",
           "e_shared_buffer_byte", "score_bytes", "pseudo_channels", "ranks", "bank_groups", "banks_per_channel",
           "page_bytes", "column_bytes", "t_ccd_s", "t_ccd_l", "t_rcd", "t_rp", "t_ras", "t_rrd", "t_faw",
           "refresh_available", "t_read_write", "t_write_read", "t_rank_switch", "e_activation_byte", "dram_bw")
P = {name: i for i, name in enumerate(P_NAMES)}
