using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels.Device;

/// <summary>Token embedding lookup on devices: Grid Y is the token, the work-items of X its columns.</summary>
internal static partial class EmbeddingKernels
{
    public static void Lookup(Accelerator accelerator, ArrayView<int> ids, int count, ArrayView<float> table, int vocab, int dim, float scale, ArrayView<float> positions, int positionRows, ArrayView<int> positionIds, int firstPosition, int positionsPerSequence, int positionOffset, ArrayView<float> output)
    {
        int group = accelerator.PreferredGroupSize;
        LaunchLookupRows(accelerator, new LaunchDimensions((dim + group - 1) / group, count, group), ids, table, positions, positionIds, output, vocab, dim, scale, positionRows, firstPosition, positionsPerSequence, positionOffset);
    }

    /// <summary>
    /// <c>out[t] = table[ids[t]] · scale + positions[p(t) + offset]</c>. An id or position outside its table (the host
    /// checks ids before uploading them) writes NaN rather than reading out of bounds.
    /// </summary>
    [Kernel]
    internal static void LookupRows(ArrayView<int> ids, ArrayView<float> table, ArrayView<float> positions, ArrayView<int> positionIds, ArrayView<float> output, int vocab, int dim, float scale, int positionRows, int firstPosition, int positionsPerSequence, int positionOffset)
    {
        int t = Grid.IdxY;
        int c = Grid.IdxX * Group.DimX + Group.IdxX;
        if (c < dim)
        {
            int id = ids[t];
            float value = id >= 0 && id < vocab ? table[id * dim + c] * scale : XMath.NaN;
            if (positions.Length > 0)
            {
                int row = (positionIds.Length > 0 ? positionIds[t] : firstPosition + t % positionsPerSequence) + positionOffset;
                value += row >= 0 && row < positionRows ? positions[row * dim + c] : XMath.NaN;
            }

            output[t * dim + c] = value;
        }
    }
}
