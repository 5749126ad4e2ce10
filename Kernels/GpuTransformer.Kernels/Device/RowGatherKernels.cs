using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels.Device;

/// <summary>Row gather on devices (the beam-search cache reorder): Grid Y is the row, the work-items of X its elements.</summary>
internal static partial class RowGatherKernels
{
    public static void Gather(Accelerator accelerator, ArrayView<float> source, ArrayView<float> destination, ArrayView<int> sourceRows, int rows, int rowStride, int rowLength)
    {
        int group = accelerator.PreferredGroupSize;
        LaunchGatherRows(accelerator, new LaunchDimensions((rowLength + group - 1) / group, rows, group), source, destination, sourceRows, rows, rowStride, rowLength);
    }

    [Kernel]
    internal static void GatherRows(ArrayView<float> source, ArrayView<float> destination, ArrayView<int> sourceRows, int rows, int rowStride, int rowLength)
    {
        int r = Grid.IdxY;
        int c = Grid.IdxX * Group.DimX + Group.IdxX;
        int from = sourceRows[r];

        // -1 (RowGather.Keep) leaves the row alone; any other index outside the rows writes NaN, never memory elsewhere.
        if (c < rowLength && from != -1)
        {
            destination[r * rowStride + c] = from >= 0 && from < rows ? source[from * rowStride + c] : XMath.NaN;
        }
    }
}
