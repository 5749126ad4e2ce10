using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels.Device;

/// <summary>Row-wise softmax and log-softmax on devices: one group per row, maximum and sum reduced through shared memory.</summary>
internal static partial class SoftmaxKernels
{
    private const int MaxGroup = 256;

    public static void Rows(Accelerator accelerator, ArrayView<float> x, ArrayView<float> y, int rows, int cols, bool log) =>
        LaunchSoftmaxRows(accelerator, new LaunchDimensions(rows, NormalizationKernels.GroupSize(accelerator, cols)), x, y, cols, log ? 1 : 0);

    [Kernel]
    internal static void SoftmaxRows(ArrayView<float> x, ArrayView<float> y, int cols, int log)
    {
        var reduce = SharedMemory.Allocate<float>(MaxGroup);
        int lane = Group.IdxX, size = Group.DimX;
        int rowBase = Grid.IdxX * cols;
        float max = XMath.NegativeInfinity;
        for (int c = lane; c < cols; c += size)
        {
            max = XMath.Max(max, x[rowBase + c]);
        }

        reduce[lane] = max;
        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride /= 2)
        {
            if (lane < stride)
            {
                reduce[lane] = XMath.Max(reduce[lane], reduce[lane + stride]);
            }

            Group.Barrier();
        }

        float rowMax = reduce[0];
        Group.Barrier();
        float sum = 0f;
        for (int c = lane; c < cols; c += size)
        {
            sum += XMath.Exp(x[rowBase + c] - rowMax);
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

        float total = reduce[0];
        float logTotal = XMath.Log(total);
        for (int c = lane; c < cols; c += size)
        {
            float shifted = x[rowBase + c] - rowMax;
            y[rowBase + c] = log != 0 ? shifted - logTotal : XMath.Exp(shifted) / total;
        }
    }
}
