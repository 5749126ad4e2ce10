namespace GpuTransformer.Kernels;

/// <summary>What <see cref="Elementwise"/> does to each element; the device kernel takes it as an integer.</summary>
internal enum ElementwiseOperation
{
    /// <summary><c>target += source</c>.</summary>
    Add = 0,

    /// <summary><c>target *= source</c>.</summary>
    Multiply = 1,

    /// <summary><c>target *= factor</c>.</summary>
    Scale = 2,
}
