using GpuTransformer.Runtime;

namespace GpuTransformer.Tests.Cuda;

/// <summary>
/// Small kernels written by hand in both forms the generator will emit: CUDA C following the calling convention of
/// <see cref="KernelDefinition"/> (a view is <c>T* p, int p_length</c>, offset by the host) and the C# body the
/// emulator runs. Running them on the emulator checks the launches the tests build; on a GPU they check the CUDA
/// backend's argument packing, grids and copies without depending on the generator.
/// </summary>
public static unsafe class HandWrittenKernels
{
    /// <summary><c>x[i] += v</c>.</summary>
    public static readonly KernelDefinition AddOne = new(
        "add_one",
        "GpuTransformer.Tests.Cuda.HandWrittenKernels.AddOneBody",
        "",
        """
        extern "C" __global__ void add_one(float* x, int x_length, float v)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < x_length)
            {
                x[i] += v;
            }
        }
        """,
        [new KernelParameter("x", true, KernelElementType.Float32), new KernelParameter("v", false, KernelElementType.Float32)],
        false,
        0);

    /// <summary>
    /// <c>values[i] = start + i</c> with 64-bit values and a 64-bit scalar, and the length of <c>values</c> stored in
    /// <c>count[0]</c> when <c>count</c> is not empty (an empty view arrives as a null pointer with length 0).
    /// </summary>
    public static readonly KernelDefinition FillSequence = new(
        "fill_sequence",
        "GpuTransformer.Tests.Cuda.HandWrittenKernels.FillSequenceBody",
        "",
        """
        extern "C" __global__ void fill_sequence(long long* values, int values_length, long long start, int* count, int count_length)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < values_length)
            {
                values[i] = start + i;
            }
            if (i == 0 && count_length > 0)
            {
                count[0] = values_length;
            }
        }
        """,
        [
            new KernelParameter("values", true, KernelElementType.Int64),
            new KernelParameter("start", false, KernelElementType.Int64),
            new KernelParameter("count", true, KernelElementType.Int32),
        ],
        false,
        0);

    /// <summary><c>cells[y * columns + x] = y * 1000 + x</c> over a two-dimensional grid (rows along Y).</summary>
    public static readonly KernelDefinition MarkCells = new(
        "mark_cells",
        "GpuTransformer.Tests.Cuda.HandWrittenKernels.MarkCellsBody",
        "",
        """
        extern "C" __global__ void mark_cells(int* cells, int cells_length, int columns)
        {
            int x = blockIdx.x * blockDim.x + threadIdx.x;
            int y = blockIdx.y;
            if (x < columns && y * columns + x < cells_length)
            {
                cells[y * columns + x] = y * 1000 + x;
            }
        }
        """,
        [new KernelParameter("cells", true, KernelElementType.Int32), new KernelParameter("columns", false, KernelElementType.Int32)],
        false,
        0);

    /// <summary>Launches <see cref="AddOne"/> over <paramref name="x"/>.</summary>
    /// <param name="accelerator">Where.</param>
    /// <param name="x">The view.</param>
    /// <param name="v">What to add.</param>
    /// <param name="groupSize">Threads per block.</param>
    public static void LaunchAddOne(Accelerator accelerator, ArrayView<float> x, float v, int groupSize)
    {
        var arguments = default(KernelArguments);
        arguments.Add(x);
        arguments.Add(v);
        accelerator.Launch(AddOne, LaunchDimensions.Covering(x.Length, groupSize), arguments, new AddOneArgs(x, v), &AddOneBody, null);
    }

    /// <summary>Launches <see cref="FillSequence"/>.</summary>
    /// <param name="accelerator">Where.</param>
    /// <param name="values">Receives the sequence.</param>
    /// <param name="start">Its first value.</param>
    /// <param name="count">Receives the length in element 0, or empty.</param>
    public static void LaunchFillSequence(Accelerator accelerator, ArrayView<long> values, long start, ArrayView<int> count)
    {
        var arguments = default(KernelArguments);
        arguments.Add(values);
        arguments.Add(start);
        arguments.Add(count);
        accelerator.Launch(FillSequence, LaunchDimensions.Covering(Math.Max(values.Length, 1), 64), arguments, new FillSequenceArgs(values, start, count), &FillSequenceBody, null);
    }

    /// <summary>Launches <see cref="MarkCells"/> with one row of the grid per row of cells.</summary>
    /// <param name="accelerator">Where.</param>
    /// <param name="cells">Rows × columns cells.</param>
    /// <param name="columns">Cells per row.</param>
    /// <param name="groupSize">Threads per block along X.</param>
    public static void LaunchMarkCells(Accelerator accelerator, ArrayView<int> cells, int columns, int groupSize)
    {
        var arguments = default(KernelArguments);
        arguments.Add(cells);
        arguments.Add(columns);
        var dimensions = new LaunchDimensions((columns + groupSize - 1) / groupSize, cells.Length / columns, groupSize);
        accelerator.Launch(MarkCells, dimensions, arguments, new MarkCellsArgs(cells, columns), &MarkCellsBody, null);
    }

    private static void AddOneBody(in AddOneArgs a)
    {
        int i = Grid.GlobalIndex.X;
        if (i < a.X.Length)
        {
            a.X[i] += a.V;
        }
    }

    private static void FillSequenceBody(in FillSequenceArgs a)
    {
        int i = Grid.GlobalIndex.X;
        if (i < a.Values.Length)
        {
            a.Values[i] = a.Start + i;
        }

        if (i == 0 && a.Count.Length > 0)
        {
            a.Count[0] = a.Values.Length;
        }
    }

    private static void MarkCellsBody(in MarkCellsArgs a)
    {
        int x = Grid.GlobalIndex.X;
        int y = Grid.IdxY;
        if (x < a.Columns && (y * a.Columns) + x < a.Cells.Length)
        {
            a.Cells[(y * a.Columns) + x] = (y * 1000) + x;
        }
    }

    private readonly record struct AddOneArgs(ArrayView<float> X, float V);

    private readonly record struct FillSequenceArgs(ArrayView<long> Values, long Start, ArrayView<int> Count);

    private readonly record struct MarkCellsArgs(ArrayView<int> Cells, int Columns);
}
