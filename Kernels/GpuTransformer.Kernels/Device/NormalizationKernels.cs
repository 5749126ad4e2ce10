using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels.Device;

/// <summary>
/// LayerNorm (with the residual add fused in) and RMSNorm on devices: one group per row, work-items take columns in
/// turn and reduce through shared memory. The variance is taken around the mean in a second pass, as PyTorch does.
/// A work-item reads and writes only its own columns, so the output may alias either input.
/// </summary>
internal static partial class NormalizationKernels
{
    private const int MaxGroup = 256;

    public static void LayerNorm(Accelerator accelerator, ArrayView<float> x, ArrayView<float> residual, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, int rows, int cols, float epsilon) =>
        LaunchLayerNormRows(accelerator, new LaunchDimensions(rows, GroupSize(accelerator, cols)), x, residual, gamma, beta, y, cols, epsilon);

    public static void RmsNorm(Accelerator accelerator, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> y, int rows, int cols, float epsilon) =>
        LaunchRmsNormRows(accelerator, new LaunchDimensions(rows, GroupSize(accelerator, cols)), x, gamma, y, cols, epsilon);

    /// <summary>A power of two no larger than the row needs, the device prefers, or the shared arrays hold.</summary>
    internal static int GroupSize(Accelerator accelerator, int cols)
    {
        int limit = Math.Min(MaxGroup, accelerator.PreferredGroupSize);
        int size = 1;
        while (size * 2 <= limit && size < cols)
        {
            size *= 2;
        }

        return size;
    }

    [Kernel]
    internal static void LayerNormRows(ArrayView<float> x, ArrayView<float> residual, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, int cols, float epsilon)
    {
        var reduce = SharedMemory.Allocate<float>(MaxGroup);
        int lane = Group.IdxX, size = Group.DimX;
        int rowBase = Grid.IdxX * cols;
        float sum = 0f;
        for (int c = lane; c < cols; c += size)
        {
            float h = residual.Length > 0 ? x[rowBase + c] + residual[rowBase + c] : x[rowBase + c];
            y[rowBase + c] = h;
            sum += h;
        }

        reduce[lane] = sum;
        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride /= 2)
        {
            if (lane < stride)
            {
                reduce[lane] += reduce[lane + stride];
            }

            Group.Barrier();
        }

        float mean = reduce[0] / cols;
        Group.Barrier();
        float squares = 0f;
        for (int c = lane; c < cols; c += size)
        {
            float d = y[rowBase + c] - mean;
            squares = XMath.FusedMultiplyAdd(d, d, squares);
        }

        reduce[lane] = squares;
        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride /= 2)
        {
            if (lane < stride)
            {
                reduce[lane] += reduce[lane + stride];
            }

            Group.Barrier();
        }

        float rstd = XMath.Rsqrt(reduce[0] / cols + epsilon);
        for (int c = lane; c < cols; c += size)
        {
            y[rowBase + c] = XMath.FusedMultiplyAdd((y[rowBase + c] - mean) * rstd, gamma[c], beta[c]);
        }
    }

    [Kernel]
    internal static void RmsNormRows(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> y, int cols, float epsilon)
    {
        var reduce = SharedMemory.Allocate<float>(MaxGroup);
        int lane = Group.IdxX, size = Group.DimX;
        int rowBase = Grid.IdxX * cols;
        float squares = 0f;
        for (int c = lane; c < cols; c += size)
        {
            float v = x[rowBase + c];
            squares = XMath.FusedMultiplyAdd(v, v, squares);
        }

        reduce[lane] = squares;
        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride /= 2)
        {
            if (lane < stride)
            {
                reduce[lane] += reduce[lane + stride];
            }

            Group.Barrier();
        }

        float scale = XMath.Rsqrt(reduce[0] / cols + epsilon);
        for (int c = lane; c < cols; c += size)
        {
            y[rowBase + c] = gamma[c] * (x[rowBase + c] * scale);
        }
    }
}
