namespace GpuTransformer.Runtime;

/// <summary>
/// Collects the time each kernel launch took: device time from events on OpenCL and CUDA, wall time on the emulator.
/// Attach one to <see cref="Accelerator.Profiler"/> to time a region; launches then wait for their event.
/// </summary>
public sealed class KernelProfiler
{
    private readonly Dictionary<string, (int Launches, double Milliseconds)> totals = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    /// <summary>Adds one launch of <paramref name="kernel"/> that took <paramref name="milliseconds"/>.</summary>
    /// <param name="kernel">The kernel's name.</param>
    /// <param name="milliseconds">Its time.</param>
    public void Record(string kernel, double milliseconds)
    {
        lock (gate)
        {
            totals.TryGetValue(kernel, out var t);
            totals[kernel] = (t.Launches + 1, t.Milliseconds + milliseconds);
        }
    }

    /// <summary>Launches and total time per kernel, slowest first.</summary>
    /// <returns>One row per kernel.</returns>
    public IReadOnlyList<(string Kernel, int Launches, double Milliseconds)> Summary()
    {
        lock (gate)
        {
            return totals.OrderByDescending(p => p.Value.Milliseconds).Select(p => (p.Key, p.Value.Launches, p.Value.Milliseconds)).ToArray();
        }
    }

    /// <summary>Forgets everything recorded.</summary>
    public void Clear()
    {
        lock (gate)
        {
            totals.Clear();
        }
    }
}
