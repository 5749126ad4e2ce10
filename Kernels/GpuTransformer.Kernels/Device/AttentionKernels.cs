using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels.Device;

/// <summary>
/// Scaled dot-product attention on devices, reading Q, K and V where the projections (or the KV cache) put them, with
/// the key-padding mask, the causal mask and an additive bias. Two kernels: for the few query rows of a decoding step,
/// a group per (query, head, sequence) splits the keys across its work-items and keeps that one row of scores in
/// shared memory; for many query rows, a flash-attention kernel gives each work-item a query row, stages key/value
/// tiles through shared memory and keeps a running (online) softmax, so no score matrix exists at any length.
/// </summary>
internal static partial class AttentionKernels
{
    /// <summary>Keys the row kernel holds in shared memory.</summary>
    public const int MaxRowKeys = 2048;

    /// <summary>Largest head size the kernels support (private accumulators).</summary>
    public const int MaxHeadDim = 128;

    private const int MaxGroup = 256;
    private const int KeyTile = 32;
    private const int RowQueryLimit = 16;

    /// <summary>Launches the kernel that suits the layout (see <see cref="Attention.Attend"/>, which validated everything).</summary>
    public static void Attend(Accelerator accelerator, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output, in AttentionLayout l, ArrayView<int> keyLengths, ArrayView<float> bias)
    {
        if (l.HeadDim > MaxHeadDim)
        {
            throw new NotSupportedException($"attention with head size {l.HeadDim} on {accelerator.Id}: the device kernels support up to {MaxHeadDim}");
        }

        int queryBatchStride = checked((int)l.QueryBatchStride), kvBatchStride = checked((int)l.KeyValueBatchStride), biasHeadStride = checked((int)l.BiasHeadStride);
        int group = Math.Min(MaxGroup, accelerator.PreferredGroupSize);
        if (l.QueryLength <= RowQueryLimit && l.KeyLength <= MaxRowKeys)
        {
            LaunchRowAttention(
                accelerator,
                new LaunchDimensions(l.QueryLength, l.Heads, l.Batch, group, 1, 1),
                q, k, v, output, keyLengths, bias,
                l.HeadDim, l.KeyLength, l.QueryRowStride, queryBatchStride, l.KeyValueRowStride, kvBatchStride, l.KeyValueGroup,
                l.Causal ? 1 : 0, l.CausalOffset, l.Scale, biasHeadStride, l.BiasRowStride, l.BiasRowOffset);
        }
        else
        {
            int rowsPerGroup = Math.Min(64, group);
            LaunchFlashAttention(
                accelerator,
                new LaunchDimensions((l.QueryLength + rowsPerGroup - 1) / rowsPerGroup, l.Heads, l.Batch, rowsPerGroup, 1, 1),
                q, k, v, output, keyLengths, bias,
                l.HeadDim, l.QueryLength, l.KeyLength, l.QueryRowStride, queryBatchStride, l.KeyValueRowStride, kvBatchStride, l.KeyValueGroup,
                l.Causal ? 1 : 0, l.CausalOffset, l.Scale, biasHeadStride, l.BiasRowStride, l.BiasRowOffset);
        }
    }

    /// <summary>
    /// One query row of one head per group (Grid X = query, Y = head, Z = sequence): work-items take keys in turn for
    /// the scores, reduce the maximum and the sum, then take output elements in turn for the weighted sum of values.
    /// </summary>
    [Kernel]
    internal static void RowAttention(
        ArrayView<float> q,
        ArrayView<float> k,
        ArrayView<float> v,
        ArrayView<float> o,
        ArrayView<int> keyLengths,
        ArrayView<float> bias,
        int headDim,
        int keyLength,
        int queryRowStride,
        int queryBatchStride,
        int kvRowStride,
        int kvBatchStride,
        int kvGroup,
        int causal,
        int causalOffset,
        float scale,
        int biasHeadStride,
        int biasRowStride,
        int biasRowOffset)
    {
        var scores = SharedMemory.Allocate<float>(MaxRowKeys);
        var reduce = SharedMemory.Allocate<float>(MaxGroup);
        int i = Grid.IdxX, h = Grid.IdxY, b = Grid.IdxZ;
        int lane = Group.IdxX, size = Group.DimX;
        int kvb = b / kvGroup;
        int valid = keyLengths.Length > 0 ? XMath.Max(0, XMath.Min(keyLengths[kvb], keyLength)) : keyLength;
        int visible = causal != 0 ? XMath.Min(valid, causalOffset + i + 1) : valid;
        int qBase = b * queryBatchStride + i * queryRowStride + h * headDim;
        int kvBase = kvb * kvBatchStride + h * headDim;

        float localMax = XMath.NegativeInfinity;
        for (int j = lane; j < visible; j += size)
        {
            float s = 0f;
            for (int e = 0; e < headDim; e++)
            {
                s = XMath.FusedMultiplyAdd(q[qBase + e] * scale, k[kvBase + j * kvRowStride + e], s);
            }

            if (bias.Length > 0)
            {
                s += bias[h * biasHeadStride + (biasRowOffset + i) * biasRowStride + j];
            }

            scores[j] = s;
            localMax = XMath.Max(localMax, s);
        }

        reduce[lane] = localMax;
        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride /= 2)
        {
            if (lane < stride)
            {
                reduce[lane] = XMath.Max(reduce[lane], reduce[lane + stride]);
            }

            Group.Barrier();
        }

        float max = reduce[0];
        Group.Barrier();
        float localSum = 0f;
        for (int j = lane; j < visible; j += size)
        {
            float p = XMath.Exp(scores[j] - max);
            scores[j] = p;
            localSum += p;
        }

        reduce[lane] = localSum;
        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride /= 2)
        {
            if (lane < stride)
            {
                reduce[lane] += reduce[lane + stride];
            }

            Group.Barrier();
        }

        float inverse = visible > 0 ? 1f / reduce[0] : 0f;
        for (int e = lane; e < headDim; e += size)
        {
            float acc = 0f;
            for (int j = 0; j < visible; j++)
            {
                acc = XMath.FusedMultiplyAdd(scores[j], v[kvBase + j * kvRowStride + e], acc);
            }

            o[qBase + e] = acc * inverse;
        }
    }

    /// <summary>
    /// A block of query rows of one head per group (Grid X = query block, Y = head, Z = sequence), one row per
    /// work-item: key and value tiles of 32 rows are staged through shared memory, and each work-item keeps its
    /// running maximum, running sum and rescaled output accumulator (online softmax).
    /// </summary>
    [Kernel]
    internal static void FlashAttention(
        ArrayView<float> q,
        ArrayView<float> k,
        ArrayView<float> v,
        ArrayView<float> o,
        ArrayView<int> keyLengths,
        ArrayView<float> bias,
        int headDim,
        int queryLength,
        int keyLength,
        int queryRowStride,
        int queryBatchStride,
        int kvRowStride,
        int kvBatchStride,
        int kvGroup,
        int causal,
        int causalOffset,
        float scale,
        int biasHeadStride,
        int biasRowStride,
        int biasRowOffset)
    {
        var tileK = SharedMemory.Allocate<float>(KeyTile * MaxHeadDim);
        var tileV = SharedMemory.Allocate<float>(KeyTile * MaxHeadDim);
        var query = LocalMemory.Allocate<float>(MaxHeadDim);
        var acc = LocalMemory.Allocate<float>(MaxHeadDim);
        int h = Grid.IdxY, b = Grid.IdxZ;
        int lane = Group.IdxX, size = Group.DimX;
        int i = Grid.IdxX * size + lane;
        bool active = i < queryLength;
        int kvb = b / kvGroup;
        int valid = keyLengths.Length > 0 ? XMath.Max(0, XMath.Min(keyLengths[kvb], keyLength)) : keyLength;
        int visible = !active ? 0 : causal != 0 ? XMath.Min(valid, causalOffset + i + 1) : valid;
        int qBase = b * queryBatchStride + i * queryRowStride + h * headDim;
        int kvBase = kvb * kvBatchStride + h * headDim;
        for (int e = 0; e < headDim; e++)
        {
            query[e] = active ? q[qBase + e] * scale : 0f;
            acc[e] = 0f;
        }

        float runningMax = XMath.NegativeInfinity;
        float runningSum = 0f;
        for (int start = 0; start < valid; start += KeyTile)
        {
            for (int e = lane; e < KeyTile * headDim; e += size)
            {
                int jj = e / headDim, d = e % headDim;
                int j = start + jj;
                tileK[jj * headDim + d] = j < valid ? k[kvBase + j * kvRowStride + d] : 0f;
                tileV[jj * headDim + d] = j < valid ? v[kvBase + j * kvRowStride + d] : 0f;
            }

            Group.Barrier();
            int end = XMath.Min(KeyTile, visible - start);
            for (int jj = 0; jj < end; jj++)
            {
                float s = 0f;
                for (int e = 0; e < headDim; e++)
                {
                    s = XMath.FusedMultiplyAdd(query[e], tileK[jj * headDim + e], s);
                }

                if (bias.Length > 0)
                {
                    s += bias[h * biasHeadStride + (biasRowOffset + i) * biasRowStride + start + jj];
                }

                float newMax = XMath.Max(runningMax, s);
                float correction = XMath.Exp(runningMax - newMax);
                float p = XMath.Exp(s - newMax);
                runningSum = runningSum * correction + p;
                for (int e = 0; e < headDim; e++)
                {
                    acc[e] = XMath.FusedMultiplyAdd(p, tileV[jj * headDim + e], acc[e] * correction);
                }

                runningMax = newMax;
            }

            Group.Barrier();
        }

        if (active)
        {
            float inverse = visible > 0 ? 1f / runningSum : 0f;
            for (int e = 0; e < headDim; e++)
            {
                o[qBase + e] = acc[e] * inverse;
            }
        }
    }
}
