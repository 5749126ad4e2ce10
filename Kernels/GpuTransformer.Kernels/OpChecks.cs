using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>The argument checks every op facade makes before it dispatches, so backends can trust their inputs.</summary>
internal static class OpChecks
{
    /// <summary>Throws unless <paramref name="view"/> is memory of <paramref name="accelerator"/> with at least <paramref name="length"/> elements.</summary>
    public static void View<T>(Accelerator accelerator, ArrayView<T> view, long length, string op, string name)
        where T : unmanaged
    {
        if (length > view.Length)
        {
            throw new ArgumentException($"{op}: '{name}' has {view.Length} elements, needs {length}", name);
        }

        if (length > 0 && view.Memory is { } memory && memory.Accelerator != accelerator)
        {
            throw new ArgumentException($"{op}: '{name}' is memory of {memory.Accelerator.Id}, not of {accelerator.Id}", name);
        }
    }

    /// <summary>Throws unless the optional <paramref name="view"/> is empty or fits.</summary>
    public static void Optional<T>(Accelerator accelerator, ArrayView<T> view, long length, string op, string name)
        where T : unmanaged
    {
        if (!view.IsEmpty)
        {
            View(accelerator, view, length, op, name);
        }
    }

    public static void NonNegative(int value, string op, string name)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{op}: '{name}' must not be negative");
        }
    }

    public static NotSupportedException Unsupported(string op, Accelerator accelerator) =>
        new($"{op} has no implementation for {accelerator.Kind} devices ({accelerator.Id})");
}
