namespace GpuTransformer.Runtime;

/// <summary>A device this machine offers, as <c>gpu-transformer devices</c> lists it.</summary>
public sealed record DeviceDescription
{
    /// <summary>The name to select it by: <c>cpu</c>, <c>emulator</c>, <c>opencl:N</c>, <c>cuda:N</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The backend.</summary>
    public required AcceleratorKind Kind { get; init; }

    /// <summary>The device's own name (for OpenCL and CUDA, as the driver reports it).</summary>
    public required string Name { get; init; }

    /// <summary>Global memory in bytes.</summary>
    public required long MemoryBytes { get; init; }

    /// <summary>Version text: the OpenCL device and OpenCL C versions, the CUDA compute capability and driver.</summary>
    public required string Version { get; init; }

    /// <summary>Compute units (OpenCL) or multiprocessors (CUDA) or hardware threads (cpu, emulator).</summary>
    public required int ComputeUnits { get; init; }

    /// <summary>Whether the device is a GPU (what <c>auto</c> prefers).</summary>
    public bool IsGpu { get; init; }

    /// <summary>The platform or driver that offers the device, when there is one.</summary>
    public string? Platform { get; init; }

    /// <summary>The largest work-group the device runs, when it reports one (OpenCL, CUDA).</summary>
    public int? MaxGroupSize { get; init; }

    /// <summary>Group-shared (OpenCL local) memory per group in bytes, when the device reports it (OpenCL, CUDA).</summary>
    public int? MaxSharedMemoryBytes { get; init; }
}
