namespace GpuTransformer.Runtime.Emulator;

/// <summary>How the emulator runs the work-items of a kernel that synchronises with <see cref="Group.Barrier"/>.</summary>
public enum EmulatorMode
{
    /// <summary>
    /// One thread per group, the generated work-item loops interleaving the work-items between barriers (PoCL's
    /// method): fast, and groups spread over the cores. The default.
    /// </summary>
    WorkItemLoops,

    /// <summary>
    /// One thread per work-item, each running the C# kernel method itself and blocking at barriers: slow, but the
    /// kernel's own code is what runs, so it can be stepped through in a debugger.
    /// </summary>
    ThreadPerWorkItem,
}
