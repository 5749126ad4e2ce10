using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels.Device;

/// <summary>
/// <see cref="TokenSelection"/> on devices: one group per row. The work-items take vocabulary entries in turn: they
/// reduce the log-softmax statistics, apply the row's edits, keep each a sorted list of their K best, and merge the
/// lists in K rounds of a group-wide arg-max (ties to the lower id), so only K candidates per row leave the device.
/// </summary>
internal static partial class TokenSelectionKernels
{
    private const int MaxGroup = 256;
    private const int MaxK = TokenSelection.MaxK;
    private const int None = int.MaxValue;

    public static void Select(Accelerator accelerator, ArrayView<float> logits, int rows, int vocab, in TokenSelectionOptions options, ArrayView<int> editOffsets, ArrayView<int> edits, ArrayView<float> rowOffsets, ArrayView<float> scores, ArrayView<int> ids, ArrayView<float> logSumExp) =>
        LaunchSelectRows(
            accelerator,
            new LaunchDimensions(rows, NormalizationKernels.GroupSize(accelerator, vocab)),
            logits, editOffsets, edits, rowOffsets, scores, ids, logSumExp,
            vocab, options.K, options.LogSoftmaxFirst ? 1 : 0, options.RepetitionPenalty);

    [Kernel]
    internal static void SelectRows(ArrayView<float> logits, ArrayView<int> editOffsets, ArrayView<int> edits, ArrayView<float> rowOffsets, ArrayView<float> scores, ArrayView<int> ids, ArrayView<float> logSumExp, int vocab, int k, int logSoftmaxFirst, float penalty)
    {
        var values = SharedMemory.Allocate<float>(MaxGroup);
        var indices = SharedMemory.Allocate<int>(MaxGroup);
        var topValues = LocalMemory.Allocate<float>(MaxK);
        var topIds = LocalMemory.Allocate<int>(MaxK);
        int lane = Group.IdxX, size = Group.DimX;
        int row = Grid.IdxX;
        int rowBase = row * vocab;

        if (logSoftmaxFirst != 0)
        {
            float max = XMath.NegativeInfinity;
            for (int t = lane; t < vocab; t += size)
            {
                max = XMath.Max(max, logits[rowBase + t]);
            }

            values[lane] = max;
            Group.Barrier();
            for (int stride = size / 2; stride > 0; stride /= 2)
            {
                if (lane < stride)
                {
                    values[lane] = XMath.Max(values[lane], values[lane + stride]);
                }

                Group.Barrier();
            }

            float rowMax = values[0];
            Group.Barrier();
            float sum = 0f;
            for (int t = lane; t < vocab; t += size)
            {
                sum += XMath.Exp(logits[rowBase + t] - rowMax);
            }

            values[lane] = sum;
            Group.Barrier();
            for (int stride = size / 2; stride > 0; stride /= 2)
            {
                if (lane < stride)
                {
                    values[lane] += values[lane + stride];
                }

                Group.Barrier();
            }

            float logSum = XMath.Log(values[0]);
            for (int t = lane; t < vocab; t += size)
            {
                logits[rowBase + t] = (logits[rowBase + t] - rowMax) - logSum;
            }

            Group.Barrier();
        }

        int firstEdit = editOffsets.Length > 0 ? editOffsets[row] : 0;
        int endEdit = editOffsets.Length > 0 ? editOffsets[row + 1] : 0;
        int forced = 0;
        for (int e = firstEdit; e < endEdit; e++)
        {
            if (edits[2 * e + 1] == 2)
            {
                forced = 1;
            }
        }

        if (forced != 0)
        {
            for (int t = lane; t < vocab; t += size)
            {
                logits[rowBase + t] = XMath.NegativeInfinity;
            }

            Group.Barrier();
        }

        if (lane == 0)
        {
            for (int e = firstEdit; e < endEdit; e++)
            {
                int token = edits[2 * e];
                int kind = edits[2 * e + 1];
                if (kind == 2)
                {
                    logits[rowBase + token] = 0f;
                }
                else if (forced == 0)
                {
                    float s = logits[rowBase + token];
                    logits[rowBase + token] = kind == 0 ? XMath.NegativeInfinity : s < 0f ? s * penalty : s / penalty;
                }
            }
        }

        Group.Barrier();
        float offset = rowOffsets.Length > 0 ? rowOffsets[row] : 0f;
        int count = 0;
        float localMax = XMath.NegativeInfinity;
        for (int t = lane; t < vocab; t += size)
        {
            float processed = logits[rowBase + t];
            localMax = XMath.Max(localMax, processed);
            float v = processed + offset;
            if (count < k || v > topValues[k - 1])
            {
                int pos = count < k ? count : k - 1;
                if (count < k)
                {
                    count++;
                }

                while (pos > 0 && v > topValues[pos - 1])
                {
                    topValues[pos] = topValues[pos - 1];
                    topIds[pos] = topIds[pos - 1];
                    pos--;
                }

                topValues[pos] = v;
                topIds[pos] = t;
            }
        }

        int head = 0;
        for (int rank = 0; rank < k; rank++)
        {
            values[lane] = head < count ? topValues[head] : XMath.NegativeInfinity;
            indices[lane] = head < count ? topIds[head] : None;
            Group.Barrier();
            for (int stride = size / 2; stride > 0; stride /= 2)
            {
                if (lane < stride)
                {
                    float other = values[lane + stride];
                    int otherIndex = indices[lane + stride];
                    if (other > values[lane] || (other == values[lane] && otherIndex < indices[lane]))
                    {
                        values[lane] = other;
                        indices[lane] = otherIndex;
                    }
                }

                Group.Barrier();
            }

            int winner = indices[0];
            if (lane == 0)
            {
                scores[row * k + rank] = values[0];
                ids[row * k + rank] = winner;
            }

            if (head < count && topIds[head] == winner)
            {
                head++;
            }

            Group.Barrier();
        }

        values[lane] = localMax;
        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride /= 2)
        {
            if (lane < stride)
            {
                values[lane] = XMath.Max(values[lane], values[lane + stride]);
            }

            Group.Barrier();
        }

        float processedMax = values[0];
        Group.Barrier();
        float total = 0f;
        if (processedMax != XMath.NegativeInfinity)
        {
            for (int t = lane; t < vocab; t += size)
            {
                total += XMath.Exp(logits[rowBase + t] - processedMax);
            }
        }

        values[lane] = total;
        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride /= 2)
        {
            if (lane < stride)
            {
                values[lane] += values[lane + stride];
            }

            Group.Barrier();
        }

        if (lane == 0)
        {
            logSumExp[row] = processedMax == XMath.NegativeInfinity ? processedMax : processedMax + XMath.Log(values[0]);
        }
    }
}
