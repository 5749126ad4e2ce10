namespace GpuTransformer.Runtime;

/// <summary>A three-dimensional index, as <see cref="Grid.GlobalIndex"/> returns it.</summary>
/// <param name="X">The first dimension.</param>
/// <param name="Y">The second dimension.</param>
/// <param name="Z">The third dimension.</param>
public readonly record struct Index3D(int X, int Y, int Z);
