namespace GpuTransformer.Runtime.Cuda;

/// <summary>What <see cref="CudaProvider"/> learned about one device when it enumerated them.</summary>
/// <param name="Ordinal">Its index among the driver's devices (the N of <c>cuda:N</c>).</param>
/// <param name="Device">The <c>CUdevice</c>.</param>
/// <param name="ComputeMajor">Compute capability, major.</param>
/// <param name="ComputeMinor">Compute capability, minor.</param>
/// <param name="MaxThreadsPerBlock">The largest block.</param>
/// <param name="MaxSharedMemoryPerBlock">Static <c>__shared__</c> bytes a block may declare.</param>
/// <param name="MaxGridX">Blocks along X.</param>
/// <param name="MaxGridY">Blocks along Y.</param>
/// <param name="MaxGridZ">Blocks along Z.</param>
/// <param name="Description">The description <c>devices</c> prints.</param>
internal sealed record CudaDeviceInfo(
    int Ordinal,
    int Device,
    int ComputeMajor,
    int ComputeMinor,
    int MaxThreadsPerBlock,
    int MaxSharedMemoryPerBlock,
    int MaxGridX,
    int MaxGridY,
    int MaxGridZ,
    DeviceDescription Description)
{
    /// <summary>The capability as NVIDIA writes it for real architectures, e.g. <c>sm_90</c>.</summary>
    public string ComputeCapability => $"sm_{ComputeMajor}{ComputeMinor}";
}
