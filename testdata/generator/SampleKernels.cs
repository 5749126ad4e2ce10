// Input of KernelGeneratorGoldenTests: kernels that use every construct of the kernel language once or more.
using GpuTransformer.Runtime;

namespace Sample;

internal static partial class SampleKernels
{
    private const int MaxGroup = 64;
    private const float Half = 0.5f;

    [KernelHelper]
    public static float Clamp(float x, float lo, float hi) => XMath.Min(XMath.Max(x, lo), hi);

    [KernelHelper]
    public static float Soft(int kind, float x)
    {
        if (kind == 1)
        {
            return Clamp(x, -1f, 1f);
        }

        return kind == 2 ? XMath.Tanh(x) : x * Half;
    }

    /// <summary>Barrier-free: each work-item scales one element.</summary>
    [Kernel]
    internal static void Scale(ArrayView<float> x, ArrayView<float> y, int count, float factor, int kind)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= count)
        {
            return;
        }

        // C# takes shift counts modulo 32, so the difference is 0; the generated C masks the count to keep that.
        y[i] = Soft(kind, x[i] * factor) + (float)((i << (32 + kind)) - (i << kind));
    }

    /// <summary>One group per row: strided partial sums reduced through shared memory.</summary>
    [Kernel]
    internal static void SumRows(ArrayView<float> x, ArrayView<float> sums, ArrayView<int> counts, int cols)
    {
        var partial = SharedMemory.Allocate<float>(MaxGroup);
        var scratch = LocalMemory.Allocate<float>(4);
        int lane = Group.IdxX, size = Group.DimX;
        int rowBase = Grid.IdxX * cols;
        float sum = 0f;
        int seen = 0;
        for (int c = lane; c < cols; c += size)
        {
            float v = x[rowBase + c];
            if (XMath.IsNaN(v) || v == XMath.PositiveInfinity)
            {
                continue;
            }

            sum += v;
            seen++;
        }

        scratch[0] = sum;
        partial[lane] = scratch[0];
        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride >>= 1)
        {
            if (lane < stride)
            {
                ref float mine = ref partial[lane];
                mine += partial[lane + stride];
            }

            Group.Barrier();
        }

        if (lane == 0)
        {
            sums[Grid.IdxX] = partial[0];
        }

        uint bits = (uint)seen & 0xFFu;
        long wide = (long)bits << 3;
        int k = 0;
        do
        {
            k++;
        }
        while (k < 3 && wide > 0);

        while (k > 0)
        {
            k--;
            if (k == 1)
            {
                break;
            }
        }

        counts[Grid.IdxX * size + lane] = (int)(wide >> 3) + k - (cols % 2 == 0 ? 0 : 1) + (int)XMath.Floor(-0.25f) + XMath.Abs(-1);
    }

    /// <summary>
    /// Barriers inside while, do and if/else, a parameter written in the body, a const local, and a return that a
    /// whole group takes before its first barrier: an inclusive prefix sum per row (Hillis-Steele).
    /// </summary>
    [Kernel]
    internal static void PrefixSums(ArrayView<int> data, ArrayView<int> totals, int length, int rounds)
    {
        const int Width = 64;
        var buffer = SharedMemory.Allocate<int>(Width);
        int lane = Group.IdxX;
        int row = Grid.IdxX;
        if (row >= totals.Length)
        {
            return;
        }

        buffer[lane] = lane < length ? data[(row * length) + lane] : 0;
        Group.Barrier();
        int offset = 1;
        while (offset < Group.DimX)
        {
            int add = lane >= offset ? buffer[lane - offset] : 0;
            Group.Barrier();
            buffer[lane] += add;
            Group.Barrier();
            offset *= 2;
        }

        rounds = rounds < 1 ? 1 : rounds;
        do
        {
            rounds--;
            Group.Barrier();
        }
        while (rounds > 0);

        if (length > Width / 2)
        {
            Group.Barrier();
            totals[row] = buffer[Group.DimX - 1];
        }
        else
        {
            Group.Barrier();
            totals[row] = -buffer[Group.DimX - 1];
        }

        if (lane < length)
        {
            data[(row * length) + lane] = buffer[lane];
        }
    }
}
