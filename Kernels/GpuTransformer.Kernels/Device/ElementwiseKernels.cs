using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels.Device;

/// <summary>Element-wise updates on devices, one work-item per element.</summary>
internal static partial class ElementwiseKernels
{
    public static void Apply(Accelerator accelerator, ArrayView<float> source, ArrayView<float> target, int count, ElementwiseOperation operation, float factor) =>
        LaunchUpdate(accelerator, LaunchDimensions.Covering(count, accelerator.PreferredGroupSize), source, target, count, (int)operation, factor);

    /// <summary><c>target += source</c> (0), <c>target *= source</c> (1) or <c>target *= factor</c> (2).</summary>
    [Kernel]
    internal static void Update(ArrayView<float> source, ArrayView<float> target, int count, int operation, float factor)
    {
        int i = Grid.GlobalIndex.X;
        if (i < count)
        {
            target[i] = operation == 0 ? target[i] + source[i] : operation == 1 ? target[i] * source[i] : target[i] * factor;
        }
    }
}
