namespace GpuTransformer.Runtime.Cuda;

/// <summary>The <c>CUdevice_attribute</c> values of cuda.h this backend queries (the C enum is an <c>int</c>).</summary>
internal enum CudaDeviceAttribute
{
    /// <summary><c>CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK</c>.</summary>
    MaxThreadsPerBlock = 1,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X</c>.</summary>
    MaxBlockDimX = 2,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X</c>.</summary>
    MaxGridDimX = 5,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y</c>.</summary>
    MaxGridDimY = 6,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z</c>.</summary>
    MaxGridDimZ = 7,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK</c>: the static <c>__shared__</c> limit (48 KiB).</summary>
    MaxSharedMemoryPerBlock = 8,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_WARP_SIZE</c>.</summary>
    WarpSize = 10,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_CLOCK_RATE</c> (kHz).</summary>
    ClockRate = 13,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT</c>.</summary>
    MultiprocessorCount = 16,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_INTEGRATED</c>.</summary>
    Integrated = 18,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_PCI_BUS_ID</c>.</summary>
    PciBusId = 33,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR</c>.</summary>
    ComputeCapabilityMajor = 75,

    /// <summary><c>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR</c>.</summary>
    ComputeCapabilityMinor = 76,
}
