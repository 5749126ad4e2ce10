using System.Diagnostics;

namespace GpuTransformer.Runtime.Emulator;

/// <summary>
/// The <c>emulator</c> device: runs the C# <see cref="KernelAttribute"/> kernels with real work-group semantics on
/// host memory. Barrier-free kernels run each work-item's call of the kernel method in turn, groups spread over the
/// cores. Kernels with barriers run as work-item loops (<see cref="EmulatorMode.WorkItemLoops"/>) or with a thread
/// per work-item (<see cref="EmulatorMode.ThreadPerWorkItem"/>). Views are bounds-checked, shared and private memory
/// start out poisoned (NaN, -1), and a barrier that only some work-items reach is reported: the place to debug a kernel.
/// </summary>
public sealed class EmulatorAccelerator : Accelerator
{
    private readonly Lock launchGate = new();
    private LaneCrew? crew;

    /// <summary>Creates the emulator device.</summary>
    /// <param name="mode">How kernels with barriers run.</param>
    public EmulatorAccelerator(EmulatorMode mode = EmulatorMode.WorkItemLoops)
        : base(Describe(mode))
    {
        Mode = mode;
    }

    /// <summary>How kernels with barriers run.</summary>
    public EmulatorMode Mode { get; }

    /// <inheritdoc />
    public override int MaxGroupSize => 1024;

    /// <inheritdoc />
    public override int MaxSharedMemoryBytes => 48 * 1024;

    /// <summary>
    /// Small, so that rows shorter than a GPU's group still spread over several work-items and exercise the kernels'
    /// strided loops and reductions; kernels are correct for any group size.
    /// </summary>
    public override int PreferredGroupSize => 32;

    /// <inheritdoc />
    public override void Synchronize()
    {
    }

    /// <summary>The description <c>gpu-transformer devices</c> prints.</summary>
    /// <param name="mode">The mode.</param>
    /// <returns>The emulator device.</returns>
    internal static DeviceDescription Describe(EmulatorMode mode = EmulatorMode.WorkItemLoops) => new()
    {
        Id = mode == EmulatorMode.WorkItemLoops ? "emulator" : "emulator:threads",
        Kind = AcceleratorKind.Emulator,
        Name = mode == EmulatorMode.WorkItemLoops ? "C# kernel emulator (work-item loops)" : "C# kernel emulator (a thread per work-item)",
        MemoryBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        Version = $".NET {Environment.Version}",
        ComputeUnits = Environment.ProcessorCount,
    };

    /// <inheritdoc />
    protected override DeviceMemory AllocateMemory(long bytes) => new HostMemory(this, bytes);

    /// <inheritdoc />
    protected override unsafe void Execute<TArgs>(KernelDefinition kernel, in LaunchDimensions dimensions, in KernelArguments arguments, in TArgs emulatorArguments, delegate*<in TArgs, void> emulatorBody, delegate*<in TArgs, WorkGroupLoop, void> emulatorGroupBody)
    {
        long start = Stopwatch.GetTimestamp();
        var launch = new EmulatedLaunch<TArgs>(kernel, dimensions, emulatorArguments, emulatorBody, emulatorGroupBody);
        lock (launchGate)
        {
            if (!kernel.UsesBarriers)
            {
                launch.RunWorkItems();
            }
            else if (Mode == EmulatorMode.WorkItemLoops && emulatorGroupBody != null)
            {
                launch.RunWorkItemLoops();
            }
            else
            {
                crew ??= new LaneCrew();
                crew.Run(launch);
            }
        }

        launch.ThrowIfFailed();
        Profiler?.Record(kernel.Name, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            crew?.Dispose();
        }
    }
}
