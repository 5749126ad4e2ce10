using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels.Device;

/// <summary>
/// <c>nn.Linear</c> on devices: <c>Y = act(X · Wᵀ + b)</c> with W in PyTorch's [out, in] layout, batched over
/// Grid.IdxZ with row and batch strides. Two kernels, chosen by the number of rows: a shared-memory tiled product
/// with 4 × 4 register blocking for many rows (encoder, teacher forcing), and a split-K kernel for the few rows of
/// a decoding step, where the product is a matrix-vector product bound by reading W once.
/// </summary>
internal static partial class GemmKernels
{
    private const int Tile = 64;
    private const int TileK = 16;
    private const int TileStride = Tile + 1;
    private const int Threads = 16;
    private const int SkinnyRows = 4;
    private const int SkinnyColumns = 4;
    private const int MaxSkinnyGroup = 256;

    /// <summary>Row counts up to this use the split-K kernel.</summary>
    public const int SkinnyLimit = 16;

    /// <summary>Launches the kernel that suits <paramref name="xLayout"/> (see <see cref="Gemm.Linear(Accelerator, ArrayView{float}, in RowLayout, LinearWeight, ArrayView{float}, in RowLayout, Activation)"/>, which validated everything).</summary>
    public static void Linear(Accelerator accelerator, ArrayView<float> x, in RowLayout xLayout, LinearWeight weight, ArrayView<float> y, in RowLayout yLayout, Activation activation)
    {
        int rows = xLayout.Rows, n = weight.Out, k = weight.In;
        int xBatchStride = checked((int)xLayout.BatchStride), yBatchStride = checked((int)yLayout.BatchStride);
        if (rows <= SkinnyLimit)
        {
            int group = Math.Min(MaxSkinnyGroup, accelerator.PreferredGroupSize);
            var dims = new LaunchDimensions((n + SkinnyColumns - 1) / SkinnyColumns, (rows + SkinnyRows - 1) / SkinnyRows, xLayout.Batch, group, 1, 1);
            LaunchSkinnyLinear(accelerator, dims, x, weight.Weight, weight.Bias, y, rows, n, k, xLayout.RowStride, xBatchStride, yLayout.RowStride, yBatchStride, (int)activation);
        }
        else
        {
            var dims = new LaunchDimensions((n + Tile - 1) / Tile, (rows + Tile - 1) / Tile, xLayout.Batch, Threads, Threads, 1);
            LaunchTiledLinear(accelerator, dims, x, weight.Weight, weight.Bias, y, rows, n, k, xLayout.RowStride, xBatchStride, yLayout.RowStride, yBatchStride, (int)activation);
        }
    }

    /// <summary>
    /// One 64 × 64 output tile per group of 16 × 16 work-items, each accumulating a 4 × 4 block strided by 16 so that
    /// shared-memory reads are conflict-free and stores coalesce. K advances in slices of 16 staged through shared
    /// memory (transposed, padded by one column against bank conflicts).
    /// </summary>
    [Kernel]
    internal static void TiledLinear(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, int rows, int n, int k, int ldx, int xBatchStride, int ldy, int yBatchStride, int activation)
    {
        var tileX = SharedMemory.Allocate<float>(TileK * TileStride);
        var tileW = SharedMemory.Allocate<float>(TileK * TileStride);
        var acc = LocalMemory.Allocate<float>(16);
        int tx = Group.IdxX, ty = Group.IdxY;
        int lane = ty * Threads + tx;
        int rowBase = Grid.IdxY * Tile, colBase = Grid.IdxX * Tile;
        int xBase = Grid.IdxZ * xBatchStride, yBase = Grid.IdxZ * yBatchStride;
        for (int i = 0; i < 16; i++)
        {
            acc[i] = 0f;
        }

        for (int k0 = 0; k0 < k; k0 += TileK)
        {
            for (int e = lane; e < Tile * TileK; e += Threads * Threads)
            {
                int r = e / TileK, c = e % TileK;
                int gk = k0 + c;
                int gr = rowBase + r;
                int gn = colBase + r;
                tileX[c * TileStride + r] = gr < rows && gk < k ? x[xBase + gr * ldx + gk] : 0f;
                tileW[c * TileStride + r] = gn < n && gk < k ? w[gn * k + gk] : 0f;
            }

            Group.Barrier();
            for (int kk = 0; kk < TileK; kk++)
            {
                for (int i = 0; i < 4; i++)
                {
                    float a = tileX[kk * TileStride + ty + Threads * i];
                    for (int j = 0; j < 4; j++)
                    {
                        acc[i * 4 + j] = XMath.FusedMultiplyAdd(a, tileW[kk * TileStride + tx + Threads * j], acc[i * 4 + j]);
                    }
                }
            }

            Group.Barrier();
        }

        for (int i = 0; i < 4; i++)
        {
            int gr = rowBase + ty + Threads * i;
            for (int j = 0; j < 4; j++)
            {
                int gn = colBase + tx + Threads * j;
                if (gr < rows && gn < n)
                {
                    float v = acc[i * 4 + j];
                    if (bias.Length > 0)
                    {
                        v += bias[gn];
                    }

                    y[yBase + gr * ldy + gn] = ActivationFunctions.Apply(activation, v);
                }
            }
        }
    }

    /// <summary>
    /// A block of 4 rows × 4 output columns per group: the work-items split K (consecutive work-items read
    /// consecutive weights, so each weight row is read once, coalesced), then a tree reduction in shared memory
    /// sums the 16 partial dot products. The group size is any power of two up to 256.
    /// </summary>
    [Kernel]
    internal static void SkinnyLinear(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, int rows, int n, int k, int ldx, int xBatchStride, int ldy, int yBatchStride, int activation)
    {
        var partial = SharedMemory.Allocate<float>(SkinnyRows * SkinnyColumns * MaxSkinnyGroup);
        var acc = LocalMemory.Allocate<float>(SkinnyRows * SkinnyColumns);
        int lane = Group.IdxX, size = Group.DimX;
        int colBase = Grid.IdxX * SkinnyColumns, rowBase = Grid.IdxY * SkinnyRows;
        int xBase = Grid.IdxZ * xBatchStride, yBase = Grid.IdxZ * yBatchStride;
        for (int p = 0; p < SkinnyRows * SkinnyColumns; p++)
        {
            acc[p] = 0f;
        }

        for (int kk = lane; kk < k; kk += size)
        {
            for (int c = 0; c < SkinnyColumns; c++)
            {
                int gn = colBase + c;
                float wv = gn < n ? w[gn * k + kk] : 0f;
                for (int r = 0; r < SkinnyRows; r++)
                {
                    int gr = rowBase + r;
                    float xv = gr < rows ? x[xBase + gr * ldx + kk] : 0f;
                    acc[r * SkinnyColumns + c] = XMath.FusedMultiplyAdd(xv, wv, acc[r * SkinnyColumns + c]);
                }
            }
        }

        for (int p = 0; p < SkinnyRows * SkinnyColumns; p++)
        {
            partial[p * size + lane] = acc[p];
        }

        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride /= 2)
        {
            if (lane < stride)
            {
                for (int p = 0; p < SkinnyRows * SkinnyColumns; p++)
                {
                    partial[p * size + lane] += partial[p * size + lane + stride];
                }
            }

            Group.Barrier();
        }

        for (int p = lane; p < SkinnyRows * SkinnyColumns; p += size)
        {
            int gr = rowBase + p / SkinnyColumns, gn = colBase + p % SkinnyColumns;
            if (gr < rows && gn < n)
            {
                float v = partial[p * size];
                if (bias.Length > 0)
                {
                    v += bias[gn];
                }

                y[yBase + gr * ldy + gn] = ActivationFunctions.Apply(activation, v);
            }
        }
    }
}
