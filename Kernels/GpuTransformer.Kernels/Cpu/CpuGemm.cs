using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// The <c>nn.Linear</c> product on the CPU: <c>Y[m, n] = act(sum_k X[m, k] * W[n, k] + bias[n])</c>, with W in PyTorch's
/// [out, in] layout so that both operands are read along contiguous rows. Multithreaded over blocks of output columns
/// so that a block of weight rows stays in cache while every input row streams past it.
/// </summary>
public static unsafe class CpuGemm
{
    private const int ColumnsPerTask = 32;

    /// <summary>Computes <c>Y = act(X · Wᵀ + bias)</c>.</summary>
    /// <param name="x">Input, <paramref name="m"/> rows of <paramref name="k"/>, row-major.</param>
    /// <param name="weight">Weight, <paramref name="n"/> rows of <paramref name="k"/>, row-major.</param>
    /// <param name="bias">Bias of length <paramref name="n"/>, or empty for none.</param>
    /// <param name="y">Output, <paramref name="m"/> rows of <paramref name="n"/>, row-major.</param>
    /// <param name="m">Rows of X and Y.</param>
    /// <param name="n">Rows of W, columns of Y.</param>
    /// <param name="k">The shared inner dimension.</param>
    /// <param name="activation">Applied to each output after the bias.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public static void Linear(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int m, int n, int k, Activation activation = Activation.None) =>
        Linear(x, k, weight, bias, y, n, m, n, k, activation);

    /// <summary>Computes <c>Y = act(X · Wᵀ + bias)</c> with rows of X and Y <paramref name="ldx"/> and <paramref name="ldy"/> elements apart.</summary>
    /// <param name="x">Input rows.</param>
    /// <param name="ldx">Elements between consecutive rows of X (at least <paramref name="k"/>).</param>
    /// <param name="weight">Weight, <paramref name="n"/> rows of <paramref name="k"/>, row-major.</param>
    /// <param name="bias">Bias of length <paramref name="n"/>, or empty for none.</param>
    /// <param name="y">Output rows; elements between a row's <paramref name="n"/> outputs and the next row are left alone.</param>
    /// <param name="ldy">Elements between consecutive rows of Y (at least <paramref name="n"/>).</param>
    /// <param name="m">Rows of X and Y.</param>
    /// <param name="n">Rows of W, columns of Y.</param>
    /// <param name="k">The shared inner dimension.</param>
    /// <param name="activation">Applied to each output after the bias.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs, or a stride is too small.</exception>
    public static void Linear(ReadOnlySpan<float> x, int ldx, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int ldy, int m, int n, int k, Activation activation = Activation.None)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        long xNeed = m == 0 ? 0 : (long)(m - 1) * ldx + k, yNeed = m == 0 ? 0 : (long)(m - 1) * ldy + n;
        if (ldx < k || ldy < n || x.Length < xNeed || weight.Length < (long)n * k || y.Length < yNeed || (!bias.IsEmpty && bias.Length < n))
        {
            throw new ArgumentException($"Linear: spans too short for m={m}, n={n}, k={k}, ldx={ldx}, ldy={ldy} (x {x.Length}, w {weight.Length}, bias {bias.Length}, y {y.Length}).");
        }

        if (m == 0 || n == 0)
        {
            return;
        }

        fixed (float* px = x, pw = weight, pb = bias, py = y)
        {
            var job = new Job { X = px, W = pw, Bias = bias.IsEmpty ? null : pb, Y = py, M = m, N = n, K = k, Ldx = ldx, Ldy = ldy, Activation = activation };
            int tasks = (n + ColumnsPerTask - 1) / ColumnsPerTask;
            if (tasks == 1 || (long)m * n * k < 32_768)
            {
                for (int t = 0; t < tasks; t++)
                {
                    job.Run(t);
                }
            }
            else
            {
                CpuParallel.For(tasks, &RunJob, &job);
            }
        }
    }

    private static void RunJob(int task, void* state) => ((Job*)state)->Run(task);

    private struct Job
    {
        public float* X;
        public float* W;
        public float* Bias;
        public float* Y;
        public int M;
        public int N;
        public int K;
        public int Ldx;
        public int Ldy;
        public Activation Activation;

        public readonly void Run(int task)
        {
            int n0 = task * ColumnsPerTask;
            int n1 = Math.Min(N, n0 + ColumnsPerTask);
            int row = 0;
            for (; row + 4 <= M; row += 4)
            {
                int col = n0;
                for (; col + 2 <= n1; col += 2)
                {
                    Tile4x2(row, col);
                }

                for (; col < n1; col++)
                {
                    for (int r = row; r < row + 4; r++)
                    {
                        Store(r, col, Dot(X + (long)r * Ldx, W + (long)col * K, K));
                    }
                }
            }

            for (; row < M; row++)
            {
                float* xr = X + (long)row * Ldx;
                for (int col = n0; col < n1; col++)
                {
                    Store(row, col, Dot(xr, W + (long)col * K, K));
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Store(int row, int col, float acc)
        {
            if (Bias != null)
            {
                acc += Bias[col];
            }

            Y[(long)row * Ldy + col] = CpuActivations.Apply(Activation, acc);
        }

        private readonly void Tile4x2(int row, int col)
        {
            float* x0 = X + (long)row * Ldx, x1 = x0 + Ldx, x2 = x1 + Ldx, x3 = x2 + Ldx;
            float* w0 = W + (long)col * K, w1 = w0 + K;
            Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
            Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
            int i = 0;
            for (; i + 8 <= K; i += 8)
            {
                var b0 = Vector256.Load(w0 + i);
                var b1 = Vector256.Load(w1 + i);
                var v = Vector256.Load(x0 + i);
                a00 = Vector256.FusedMultiplyAdd(v, b0, a00);
                a01 = Vector256.FusedMultiplyAdd(v, b1, a01);
                v = Vector256.Load(x1 + i);
                a10 = Vector256.FusedMultiplyAdd(v, b0, a10);
                a11 = Vector256.FusedMultiplyAdd(v, b1, a11);
                v = Vector256.Load(x2 + i);
                a20 = Vector256.FusedMultiplyAdd(v, b0, a20);
                a21 = Vector256.FusedMultiplyAdd(v, b1, a21);
                v = Vector256.Load(x3 + i);
                a30 = Vector256.FusedMultiplyAdd(v, b0, a30);
                a31 = Vector256.FusedMultiplyAdd(v, b1, a31);
            }

            float s00 = Vector256.Sum(a00), s01 = Vector256.Sum(a01), s10 = Vector256.Sum(a10), s11 = Vector256.Sum(a11);
            float s20 = Vector256.Sum(a20), s21 = Vector256.Sum(a21), s30 = Vector256.Sum(a30), s31 = Vector256.Sum(a31);
            for (; i < K; i++)
            {
                float b0 = w0[i], b1 = w1[i];
                s00 = MathF.FusedMultiplyAdd(x0[i], b0, s00);
                s01 = MathF.FusedMultiplyAdd(x0[i], b1, s01);
                s10 = MathF.FusedMultiplyAdd(x1[i], b0, s10);
                s11 = MathF.FusedMultiplyAdd(x1[i], b1, s11);
                s20 = MathF.FusedMultiplyAdd(x2[i], b0, s20);
                s21 = MathF.FusedMultiplyAdd(x2[i], b1, s21);
                s30 = MathF.FusedMultiplyAdd(x3[i], b0, s30);
                s31 = MathF.FusedMultiplyAdd(x3[i], b1, s31);
            }

            Store(row, col, s00);
            Store(row, col + 1, s01);
            Store(row + 1, col, s10);
            Store(row + 1, col + 1, s11);
            Store(row + 2, col, s20);
            Store(row + 2, col + 1, s21);
            Store(row + 3, col, s30);
            Store(row + 3, col + 1, s31);
        }
    }

    /// <summary>A SIMD dot product of two contiguous vectors.</summary>
    /// <param name="a">First vector.</param>
    /// <param name="b">Second vector.</param>
    /// <param name="length">Elements to multiply.</param>
    /// <returns>The sum of products.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Dot(float* a, float* b, int length)
    {
        Vector256<float> acc0 = default, acc1 = default;
        int i = 0;
        for (; i + 16 <= length; i += 16)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), acc1);
        }

        for (; i + 8 <= length; i += 8)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
        }

        float sum = Vector256.Sum(acc0 + acc1);
        for (; i < length; i++)
        {
            sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        }

        return sum;
    }
}
