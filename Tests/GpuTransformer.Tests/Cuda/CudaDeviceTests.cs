using GpuTransformer.Runtime;
using GpuTransformer.Runtime.Cuda;
using GpuTransformer.Runtime.Emulator;
using Xunit;

namespace GpuTransformer.Tests.Cuda;

/// <summary>
/// The CUDA backend on a real device: copies, launches by the calling convention, errors. Each check that a launch
/// is right also runs on the emulator, which proves the check itself on machines without a GPU; the CUDA runs skip
/// there (or fail, where <c>GPUTRANSFORMER_REQUIRE_BACKENDS</c> lists cuda).
/// </summary>
public sealed class CudaDeviceTests
{
    /// <summary>The emulator runs the hand-written kernels' checks, so a CUDA failure is the backend's, not the test's.</summary>
    [Fact]
    public void HandWrittenKernelsPassOnTheEmulator()
    {
        using var emulator = new EmulatorAccelerator();
        AddOneTouchesExactlyTheView(emulator, groupSize: 32);
        SixtyFourBitValuesAndEmptyViewsPass(emulator);
        TwoDimensionalGridsReachEveryCell(emulator, groupSize: 32);
    }

    /// <summary>Uploads and downloads larger than the staging buffer, at offsets, and device-to-device copies.</summary>
    [CudaFact]
    public void CopiesRoundTrip()
    {
        using var cuda = DeviceCatalog.Open("cuda");
        Assert.Equal(AcceleratorKind.Cuda, cuda.Kind);
        var data = new float[(3 << 20) + 12345];
        var random = new Random(1);
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)random.NextDouble();
        }

        using var buffer = cuda.Upload<float>(data);
        Assert.Equal(data, buffer.ToArray());

        buffer.CopyFrom(new float[] { -1, -2, -3 }, offset: 1_000_003);
        var three = new float[3];
        buffer.CopyTo(three, offset: 1_000_003);
        Assert.Equal(new float[] { -1, -2, -3 }, three);

        var expected = (float[])data.Clone();
        expected[1_000_003] = -1;
        expected[1_000_004] = -2;
        expected[1_000_005] = -3;
        using var copy = cuda.Allocate<float>(data.Length);
        cuda.Copy(buffer.View.SubView(17, 5_000_000), copy.View.SubView(3, 5_000_000));
        var back = copy.ToArray();
        Assert.True(back.AsSpan(3, 5_000_000).SequenceEqual(expected.AsSpan(17, 5_000_000)));
        Assert.Equal(data.Length * 4L + 12, cuda.BytesUploaded);
    }

    /// <summary>add_one on an offset view of a CUDA buffer changes exactly that view.</summary>
    [CudaFact]
    public void CudaLaunchTouchesExactlyTheView()
    {
        using var cuda = DeviceCatalog.Open("cuda");
        AddOneTouchesExactlyTheView(cuda, cuda.PreferredGroupSize);
        AddOneTouchesExactlyTheView(cuda, groupSize: 1000);
    }

    /// <summary>64-bit scalars and views, and an empty view passed as a null pointer.</summary>
    [CudaFact]
    public void CudaLaunchPassesSixtyFourBitValuesAndEmptyViews()
    {
        using var cuda = DeviceCatalog.Open("cuda");
        SixtyFourBitValuesAndEmptyViewsPass(cuda);
    }

    /// <summary>The Y dimension of the grid reaches the kernel as blockIdx.y.</summary>
    [CudaFact]
    public void CudaLaunchCoversTwoDimensionalGrids()
    {
        using var cuda = DeviceCatalog.Open("cuda");
        TwoDimensionalGridsReachEveryCell(cuda, groupSize: 128);
    }

    /// <summary>A profiler attached to the accelerator gets one event-timed record per launch.</summary>
    [CudaFact]
    public void ProfilerRecordsLaunches()
    {
        using var cuda = DeviceCatalog.Open("cuda");
        using var buffer = cuda.Upload<float>(new float[4096]);
        cuda.Profiler = new KernelProfiler();
        HandWrittenKernels.LaunchAddOne(cuda, buffer.View, 1, 256);
        HandWrittenKernels.LaunchAddOne(cuda, buffer.View, 1, 256);
        var row = Assert.Single(cuda.Profiler.Summary());
        Assert.Equal("add_one", row.Kernel);
        Assert.Equal(2, row.Launches);
        Assert.True(row.Milliseconds >= 0);
        Assert.All(buffer.ToArray(), v => Assert.Equal(2f, v));
    }

    /// <summary>Source NVRTC rejects is a CudaException naming the kernel, its C# method and NVRTC's log.</summary>
    [CudaFact]
    public void CompileErrorsCarryTheLog()
    {
        using var cuda = DeviceCatalog.Open("cuda");
        var broken = new KernelDefinition(
            "broken_kernel",
            "Tests.Broken.Method",
            "",
            "extern \"C\" __global__ void broken_kernel(float* x, int x_length) { x[0] = undefined_name; }",
            [new KernelParameter("x", true, KernelElementType.Float32)],
            false,
            0);
        var e = Assert.Throws<CudaException>(() => ((CudaAccelerator)cuda).Prepare(broken));
        Assert.Equal("nvrtcCompileProgram", e.Call);
        Assert.Equal("NVRTC_ERROR_COMPILATION", e.ErrorName);
        Assert.Contains("broken_kernel", e.Message, StringComparison.Ordinal);
        Assert.Contains("Tests.Broken.Method", e.Message, StringComparison.Ordinal);
        Assert.Contains("undefined_name", e.Message, StringComparison.Ordinal);

        // The accelerator is still usable.
        AddOneTouchesExactlyTheView(cuda, 256);
    }

    /// <summary>An entry point that is not in the module (a missing extern "C") is named in the error.</summary>
    [CudaFact]
    public void MissingEntryPointIsNamed()
    {
        using var cuda = DeviceCatalog.Open("cuda");
        var misnamed = new KernelDefinition(
            "expected_name",
            "Tests.Misnamed.Method",
            "",
            "extern \"C\" __global__ void other_name(float* x, int x_length) { }",
            [new KernelParameter("x", true, KernelElementType.Float32)],
            false,
            0);
        var e = Assert.Throws<CudaException>(() => ((CudaAccelerator)cuda).Prepare(misnamed));
        Assert.Equal("cuModuleGetFunction", e.Call);
        Assert.Contains("expected_name", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Allocating past the device's memory is a CudaException with CUDA_ERROR_OUT_OF_MEMORY, the bytes asked for and
    /// the free and total memory; after freeing, the accelerator works.
    /// </summary>
    [CudaFact]
    public void OutOfMemoryIsReportedAndRecoverable()
    {
        using var cuda = DeviceCatalog.Open("cuda");
        var held = new List<MemoryBuffer<long>>();
        try
        {
            // 16 GiB at a time (the most one Allocate can ask for) until the device says no; 1 TiB is beyond any GPU.
            CudaException? failure = null;
            for (int i = 0; i < 64 && failure is null; i++)
            {
                try
                {
                    held.Add(cuda.Allocate<long>(int.MaxValue));
                }
                catch (CudaException e)
                {
                    failure = e;
                }
            }

            Assert.NotNull(failure);
            Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", failure!.ErrorName);
            Assert.Equal(2, failure.ErrorCode);
            Assert.Contains($"{int.MaxValue * 8L:N0} bytes", failure.Message, StringComparison.Ordinal);
            Assert.Contains("free", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var buffer in held)
            {
                buffer.Dispose();
            }
        }

        AddOneTouchesExactlyTheView(cuda, 256);
    }

    /// <summary>Two accelerators on one device share its primary context; disposing one leaves the other working.</summary>
    [CudaFact]
    public void AcceleratorsOnOneDeviceAreIndependent()
    {
        using var first = DeviceCatalog.Open("cuda:0");
        var second = DeviceCatalog.Open("cuda:0");
        using (var buffer = second.Upload<float>(new float[] { 1, 2, 3 }))
        {
            Assert.Equal(new float[] { 1, 2, 3 }, buffer.ToArray());
        }

        second.Dispose();
        AddOneTouchesExactlyTheView(first, 256);
    }

    private static void AddOneTouchesExactlyTheView(Accelerator accelerator, int groupSize)
    {
        const int Length = 1000;
        var initial = Enumerable.Range(0, Length).Select(i => (float)i).ToArray();
        using var buffer = accelerator.Upload<float>(initial);
        HandWrittenKernels.LaunchAddOne(accelerator, buffer.View.SubView(100, 800), 0.5f, groupSize);
        var result = buffer.ToArray();
        for (int i = 0; i < Length; i++)
        {
            Assert.Equal(i is >= 100 and < 900 ? i + 0.5f : i, result[i]);
        }
    }

    private static void SixtyFourBitValuesAndEmptyViewsPass(Accelerator accelerator)
    {
        long start = (1L << 40) + 7;
        using var values = accelerator.Upload<long>(new long[300]);
        using var count = accelerator.Upload<int>(new[] { -1, -1 });
        HandWrittenKernels.LaunchFillSequence(accelerator, values.View.SubView(10, 257), start, count.View.SubView(1, 1));
        var result = values.ToArray();
        for (int i = 0; i < result.Length; i++)
        {
            Assert.Equal(i is >= 10 and < 267 ? start + i - 10 : 0, result[i]);
        }

        Assert.Equal(new[] { -1, 257 }, count.ToArray());

        // An empty view: no allocation, a null pointer with length 0 that the kernel must not touch.
        HandWrittenKernels.LaunchFillSequence(accelerator, values.View.SubView(0, 3), -5, default);
        Assert.Equal(new long[] { -5, -4, -3 }, values.ToArray()[..3]);
        Assert.Equal(new[] { -1, 257 }, count.ToArray());
    }

    private static void TwoDimensionalGridsReachEveryCell(Accelerator accelerator, int groupSize)
    {
        const int Rows = 37, Columns = 301;
        using var cells = accelerator.Allocate<int>(Rows * Columns);
        HandWrittenKernels.LaunchMarkCells(accelerator, cells.View, Columns, groupSize);
        var result = cells.ToArray();
        for (int y = 0; y < Rows; y++)
        {
            for (int x = 0; x < Columns; x++)
            {
                Assert.Equal((y * 1000) + x, result[(y * Columns) + x]);
            }
        }
    }
}
