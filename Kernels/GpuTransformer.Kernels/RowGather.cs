using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>
/// Copies rows by index: <c>destination[r] = source[sourceRows[r]]</c> for the first <c>rowLength</c> elements of
/// each row; a row whose index is <see cref="Keep"/> is left as it is. Beam search uses it to make each beam's KV cache
/// the cache of the beam it continues, copying only the rows that change.
/// </summary>
public static class RowGather
{
    /// <summary>The index that leaves a destination row untouched.</summary>
    public const int Keep = -1;

    /// <summary>Gathers <paramref name="rows"/> rows.</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="source">Rows <paramref name="rowStride"/> elements apart.</param>
    /// <param name="destination">Rows laid out like the source; must not overlap it.</param>
    /// <param name="sourceRows">For each destination row, the source row it copies, or <see cref="Keep"/>.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="rowStride">Elements between rows.</param>
    /// <param name="rowLength">Elements copied per row (the used part of the row).</param>
    /// <exception cref="ArgumentException">A view is too short or on another accelerator.</exception>
    public static void Gather(Accelerator accelerator, ArrayView<float> source, ArrayView<float> destination, ArrayView<int> sourceRows, int rows, int rowStride, int rowLength)
    {
        const string op = "RowGather.Gather";
        ArgumentNullException.ThrowIfNull(accelerator);
        OpChecks.NonNegative(rows, op, nameof(rows));
        OpChecks.NonNegative(rowLength, op, nameof(rowLength));
        if (rowStride < rowLength)
        {
            throw new ArgumentException($"{op}: stride {rowStride} is shorter than the row length {rowLength}", nameof(rowStride));
        }

        long need = rows == 0 ? 0 : (long)(rows - 1) * rowStride + rowLength;
        OpChecks.View(accelerator, source, need, op, nameof(source));
        OpChecks.View(accelerator, destination, need, op, nameof(destination));
        OpChecks.View(accelerator, sourceRows, rows, op, nameof(sourceRows));
        if (rows == 0 || rowLength == 0)
        {
            return;
        }

        switch (accelerator.Kind)
        {
            case AcceleratorKind.Cpu:
                var from = source.AsSpan();
                var to = destination.AsSpan();
                var index = sourceRows.AsSpan();
                for (int r = 0; r < rows; r++)
                {
                    if (index[r] == Keep)
                    {
                        continue;
                    }

                    if ((uint)index[r] >= (uint)rows)
                    {
                        throw new ArgumentOutOfRangeException(nameof(sourceRows), index[r], $"{op}: source row outside [0, {rows})");
                    }

                    from.Slice(index[r] * rowStride, rowLength).CopyTo(to.Slice(r * rowStride, rowLength));
                }

                break;
            default:
                Device.RowGatherKernels.Gather(accelerator, source, destination, sourceRows, rows, rowStride, rowLength);
                break;
        }
    }
}
