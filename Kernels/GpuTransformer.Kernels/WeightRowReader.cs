namespace GpuTransformer.Kernels;

/// <summary>
/// Fills <paramref name="destination"/> with consecutive rows of a row-major weight, starting at
/// <paramref name="firstRow"/>: how a weight is streamed from its file into its device layout a block at a time, so
/// that loading never holds a second full copy of it.
/// </summary>
/// <param name="firstRow">The first row wanted.</param>
/// <param name="destination">Whole rows; its length is a multiple of the row width.</param>
public delegate void WeightRowReader(int firstRow, Span<float> destination);
