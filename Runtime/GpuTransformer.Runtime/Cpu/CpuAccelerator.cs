namespace GpuTransformer.Runtime.Cpu;

/// <summary>
/// The <c>cpu</c> device: host memory that ops reach as spans and process with their SIMD implementations. It
/// launches no kernels; an op without a CPU implementation is a <see cref="NotSupportedException"/>.
/// </summary>
public sealed class CpuAccelerator : Accelerator
{
    /// <summary>Creates the cpu device.</summary>
    public CpuAccelerator()
        : base(Describe())
    {
    }

    /// <inheritdoc />
    public override int MaxGroupSize => 1024;

    /// <inheritdoc />
    public override int MaxSharedMemoryBytes => 64 * 1024;

    /// <inheritdoc />
    public override int PreferredGroupSize => 1;

    /// <inheritdoc />
    public override void Synchronize()
    {
    }

    /// <summary>The description <c>gpu-transformer devices</c> prints.</summary>
    /// <returns>The cpu device.</returns>
    internal static DeviceDescription Describe() => new()
    {
        Id = "cpu",
        Kind = AcceleratorKind.Cpu,
        Name = $"{HostInfo.ProcessorName} ({HostInfo.SimdDescription})",
        MemoryBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        Version = $".NET {Environment.Version}",
        ComputeUnits = Environment.ProcessorCount,
    };

    /// <inheritdoc />
    protected override DeviceMemory AllocateMemory(long bytes) => new HostMemory(this, bytes);

    /// <inheritdoc />
    protected override unsafe void Execute<TArgs>(KernelDefinition kernel, in LaunchDimensions dimensions, in KernelArguments arguments, in TArgs emulatorArguments, delegate*<in TArgs, void> emulatorBody, delegate*<in TArgs, Emulator.WorkGroupLoop, void> emulatorGroupBody) =>
        throw new NotSupportedException($"the cpu device runs ops with their SIMD implementations and launches no kernels ({kernel.SourceMethod}); use the emulator to run C# kernels");
}
