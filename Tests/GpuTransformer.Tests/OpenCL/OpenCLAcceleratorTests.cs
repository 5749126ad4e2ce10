using GpuTransformer.Runtime;
using GpuTransformer.Runtime.OpenCL;
using Xunit;

namespace GpuTransformer.Tests.OpenCL;

/// <summary>
/// The OpenCL backend on the first OpenCL device (PoCL in CI): memory at offsets, device copies, hand-written kernels
/// that follow <see cref="KernelDefinition"/>'s calling convention, build failures, limits and profiling.
/// </summary>
public sealed unsafe class OpenCLAcceleratorTests
{
    private const string AddOneSource = """
        __kernel void add_one(__global float* x_base, int x_offset, int x_length, float v)
        {
            int i = get_global_id(0);
            if (i < x_length)
            {
                x_base[x_offset + i] += v;
            }
        }
        """;

    // Every argument kind at once, on a 2-D grid: int and long views, an empty view with no allocation, and int,
    // uint, long and float scalars. Each work-item writes one row-major element of out.
    private const string MixSource = """
        __kernel void every_argument_kind(__global int* out_base, int out_offset, int out_length,
                          __global const long* big_base, int big_offset, int big_length,
                          __global float* none_base, int none_offset, int none_length,
                          int width, uint u, long l, float f)
        {
            int x = get_global_id(0);
            int y = get_global_id(1);
            if (x >= width || y * width + x >= out_length)
            {
                return;
            }

            out_base[out_offset + y * width + x] = 1000 * y + x + (int)(u / 1000u) + (int)(l >> 32) + (int)f + none_length
                + (int)big_base[big_offset] + big_length;
        }
        """;

    private static readonly KernelDefinition AddOne = new(
        "add_one",
        "GpuTransformer.Tests.OpenCL.Kernels.AddOne",
        AddOneSource,
        "",
        [new("x", true, KernelElementType.Float32), new("v", false, KernelElementType.Float32)],
        usesBarriers: false,
        sharedMemoryBytes: 0);

    private static readonly KernelDefinition Mix = new(
        "every_argument_kind",
        "GpuTransformer.Tests.OpenCL.Kernels.EveryArgumentKind",
        MixSource,
        "",
        [
            new("out", true, KernelElementType.Int32),
            new("big", true, KernelElementType.Int64),
            new("none", true, KernelElementType.Float32),
            new("width", false, KernelElementType.Int32),
            new("u", false, KernelElementType.UInt32),
            new("l", false, KernelElementType.Int64),
            new("f", false, KernelElementType.Float32),
        ],
        usesBarriers: false,
        sharedMemoryBytes: 0);

    /// <summary>Uploads and downloads at element offsets, whole buffers and views, counted as bytes moved.</summary>
    [OpenCLFact]
    public void WritesAndReadsAtOffsets()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        Assert.IsType<OpenCLAccelerator>(accelerator);
        Assert.Equal(AcceleratorKind.OpenCL, accelerator.Kind);
        using var buffer = accelerator.Allocate<float>(100);
        Assert.NotEqual(0, buffer.Memory.NativeHandle);
        Assert.False(buffer.View.IsHostAccessible);

        buffer.CopyFrom(Enumerable.Repeat(-1f, 100).ToArray());
        float[] part = Enumerable.Range(0, 40).Select(i => i * 0.5f).ToArray();
        long uploaded = accelerator.BytesUploaded;
        buffer.CopyFrom(part, 10);
        Assert.Equal(uploaded + (40 * sizeof(float)), accelerator.BytesUploaded);

        float[] all = buffer.ToArray();
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(i is >= 10 and < 50 ? (i - 10) * 0.5f : -1f, all[i]);
        }

        var middle = new float[5];
        long downloaded = accelerator.BytesDownloaded;
        buffer.CopyTo(middle, 20);
        Assert.Equal(downloaded + (5 * sizeof(float)), accelerator.BytesDownloaded);
        Assert.Equal([5f, 5.5f, 6f, 6.5f, 7f], middle);

        var view = buffer.View.SubView(30, 3);
        var fromView = new float[3];
        view.CopyToCPU(fromView);
        Assert.Equal([10f, 10.5f, 11f], fromView);
        view.CopyFromCPU([7f, 8f, 9f]);
        Assert.Equal([9f, 9.5f, 7f, 8f, 9f, 11.5f], buffer.ToArray()[28..34]);
        Assert.Throws<InvalidOperationException>(() => view[0]);
    }

    /// <summary>Long values and empty buffers survive the trip too.</summary>
    [OpenCLFact]
    public void RoundTripsLongsAndEmptyBuffers()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        long[] values = [long.MinValue, -1, 0, 1L << 40, long.MaxValue];
        using var longs = accelerator.Upload<long>(values);
        Assert.Equal(values, longs.ToArray());
        using var empty = accelerator.Allocate<int>(0);
        Assert.Empty(empty.ToArray());
        empty.CopyFrom([]);
    }

    /// <summary>A device copy between views moves exactly the view's elements, in queue order after a launch.</summary>
    [OpenCLFact]
    public void CopiesBetweenViewsOnTheDevice()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        using var source = accelerator.Upload<float>(Enumerable.Range(0, 64).Select(i => (float)i).ToArray());
        using var target = accelerator.Upload<float>(Enumerable.Repeat(-7f, 64).ToArray());

        Launch(accelerator, AddOne, LaunchDimensions.Covering(64, 16), source.View, 100f);
        accelerator.Copy(source.View.SubView(5, 20), target.View.SubView(30, 20));

        float[] result = target.ToArray();
        for (int i = 0; i < 64; i++)
        {
            Assert.Equal(i is >= 30 and < 50 ? i - 25 + 100f : -7f, result[i]);
        }

        using var other = DeviceCatalog.Open("opencl");
        using var foreign = other.Allocate<float>(64);
        Assert.Throws<ArgumentException>(() => accelerator.Copy(source.View, foreign.View));
    }

    /// <summary>
    /// A kernel on a view that starts inside its buffer changes the view's elements and nothing else, even when the
    /// grid has more work-items than the view has elements.
    /// </summary>
    [OpenCLFact]
    public void LaunchesOnAnOffsetViewAndLeavesTheRestAlone()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        float[] initial = Enumerable.Range(0, 100).Select(i => i * 1.25f).ToArray();
        using var buffer = accelerator.Upload<float>(initial);
        var view = buffer.View.SubView(13, 37);

        Launch(accelerator, AddOne, LaunchDimensions.Covering(view.Length, 16), view, 0.5f);
        Launch(accelerator, AddOne, new LaunchDimensions(1, 64), view.SubView(0, 3), 2f);
        accelerator.Synchronize();

        float[] result = buffer.ToArray();
        for (int i = 0; i < 100; i++)
        {
            float expected = initial[i] + (i is >= 13 and < 50 ? 0.5f : 0f) + (i is >= 13 and < 16 ? 2f : 0f);
            Assert.Equal(expected, result[i]);
        }

        var typed = (OpenCLAccelerator)accelerator;
        Assert.Equal(1, typed.CompiledKernelCount);
    }

    /// <summary>Every argument kind is passed with its size and bits, on a 2-D grid, and an empty view needs no allocation.</summary>
    [OpenCLFact]
    public void PassesEveryArgumentKind()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        const int width = 5;
        const int height = 3;
        using var output = accelerator.Upload<int>(Enumerable.Repeat(-1, 4 + (width * height) + 4).ToArray());
        using var big = accelerator.Upload<long>([0, 0, 40_000, 0]);

        var arguments = default(KernelArguments);
        arguments.Add(output.View.SubView(4, width * height));
        arguments.Add(big.View.SubView(2, 2));
        arguments.Add(default(ArrayView<float>));
        arguments.Add(width);
        arguments.Add(3_000_000_000u);
        arguments.Add(7L << 32);
        arguments.Add(2.75f);
        var dimensions = new LaunchDimensions(2, 2, 1, 4, 2, 1);
        accelerator.Launch(Mix, dimensions, arguments, default(NoEmulatorArguments), null, null);

        int[] result = output.ToArray();
        Assert.All(result[..4], v => Assert.Equal(-1, v));
        Assert.All(result[^4..], v => Assert.Equal(-1, v));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int expected = (1000 * y) + x + 3_000_000 + 7 + 2 + 0 + 40_000 + 2;
                Assert.Equal(expected, result[4 + (y * width) + x]);
            }
        }
    }

    /// <summary>Launches from several threads keep their own arguments and the kernel is built once.</summary>
    [OpenCLFact]
    public void ConcurrentLaunchesKeepTheirArguments()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        const int slices = 16;
        const int slice = 50;
        using var buffer = accelerator.Upload<float>(new float[slices * slice]);
        var view = buffer.View;
        Parallel.For(0, slices, s => Launch(accelerator, AddOne, LaunchDimensions.Covering(slice, 32), view.SubView(s * slice, slice), s + 1f));

        float[] result = buffer.ToArray();
        for (int i = 0; i < result.Length; i++)
        {
            Assert.Equal((i / slice) + 1f, result[i]);
        }

        Assert.Equal(1, ((OpenCLAccelerator)accelerator).CompiledKernelCount);
    }

    /// <summary>A program that does not compile names the kernel and its C# method and carries the build log.</summary>
    [OpenCLFact]
    public void BuildFailureCarriesTheKernelAndTheLog()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        var broken = new KernelDefinition(
            "broken_kernel",
            "GpuTransformer.Tests.OpenCL.Kernels.Broken",
            "__kernel void broken_kernel(__global float* x_base, int x_offset, int x_length) { x_base[0] = undeclared_thing; }",
            "",
            [new("x", true, KernelElementType.Float32)],
            usesBarriers: false,
            sharedMemoryBytes: 0);
        using var buffer = accelerator.Allocate<float>(4);

        var e = Assert.Throws<OpenCLException>(() => Launch(accelerator, broken, new LaunchDimensions(1, 1), buffer.View));
        Assert.Equal(-11, e.ErrorCode);
        Assert.Equal("CL_BUILD_PROGRAM_FAILURE", e.ErrorName);
        Assert.Equal("clBuildProgram", e.Function);
        Assert.Contains("broken_kernel", e.Message, StringComparison.Ordinal);
        Assert.Contains("GpuTransformer.Tests.OpenCL.Kernels.Broken", e.Message, StringComparison.Ordinal);
        Assert.Contains("undeclared_thing", e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<DeviceException>(e);
        Assert.Equal(0, ((OpenCLAccelerator)accelerator).CompiledKernelCount);
    }

    /// <summary>A source without the named entry point is reported by clCreateKernel with the kernel's name.</summary>
    [OpenCLFact]
    public void MissingEntryPointIsReported()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        var misnamed = new KernelDefinition("not_there", "Tests.Misnamed", AddOneSource, "", [new("x", true, KernelElementType.Float32), new("v", false, KernelElementType.Float32)], false, 0);
        using var buffer = accelerator.Allocate<float>(4);
        var e = Assert.Throws<OpenCLException>(() => Launch(accelerator, misnamed, new LaunchDimensions(1, 1), buffer.View, 1f));
        Assert.Equal("CL_INVALID_KERNEL_NAME", e.ErrorName);
        Assert.Contains("not_there", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A source whose arguments do not follow the calling convention is refused when it is built.</summary>
    [OpenCLFact]
    public void ArgumentCountIsCheckedAgainstTheConvention()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        var pointerOnly = new KernelDefinition(
            "pointer_only",
            "Tests.PointerOnly",
            "__kernel void pointer_only(__global float* x, float v) { x[get_global_id(0)] += v; }",
            "",
            [new("x", true, KernelElementType.Float32), new("v", false, KernelElementType.Float32)],
            false,
            0);
        using var buffer = accelerator.Allocate<float>(4);
        var e = Assert.Throws<OpenCLException>(() => Launch(accelerator, pointerOnly, new LaunchDimensions(1, 4), buffer.View, 1f));
        Assert.Contains("pointer_only", e.Message, StringComparison.Ordinal);
        Assert.Contains("declares 2 OpenCL arguments", e.Message, StringComparison.Ordinal);
        Assert.Contains("need 4", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Limits come from the device, and a group over the maximum is refused before reaching the driver.</summary>
    [OpenCLFact]
    public void ReportsLimitsAndRefusesOversizedGroups()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        Assert.True(accelerator.MaxGroupSize >= 1);
        Assert.True(accelerator.MaxSharedMemoryBytes >= 1024);
        Assert.InRange(accelerator.PreferredGroupSize, 1, accelerator.MaxGroupSize);
        Assert.Equal(accelerator.Description.MaxGroupSize, accelerator.MaxGroupSize);
        Assert.Equal(accelerator.Description.MaxSharedMemoryBytes, accelerator.MaxSharedMemoryBytes);
        Assert.Contains("-cl-std=CL1.2", ((OpenCLAccelerator)accelerator).BuildOptions, StringComparison.Ordinal);

        using var buffer = accelerator.Allocate<float>(4);
        Assert.Throws<ArgumentException>(() => Launch(accelerator, AddOne, new LaunchDimensions(1, accelerator.MaxGroupSize + 1), buffer.View, 1f));
    }

    /// <summary>An allocation larger than the device allows is a <see cref="DeviceException"/> naming the size.</summary>
    [OpenCLFact]
    public void OversizedAllocationNamesTheSize()
    {
        using var accelerator = (OpenCLAccelerator)DeviceCatalog.Open("opencl");
        const long requested = (long)int.MaxValue * sizeof(long);
        if (requested <= accelerator.MaxAllocationBytes)
        {
            // A device that could really hand out 16 GiB in one buffer would; do not take it from others.
            return;
        }

        var e = Assert.ThrowsAny<DeviceException>(() => accelerator.Allocate<long>(int.MaxValue));
        Assert.Contains(requested.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
    }

    /// <summary>With a profiler attached every launch records a device time.</summary>
    [OpenCLFact]
    public void ProfilerRecordsLaunches()
    {
        using var accelerator = DeviceCatalog.Open("opencl");
        using var buffer = accelerator.Upload<float>(new float[1000]);
        accelerator.Profiler = new KernelProfiler();
        Launch(accelerator, AddOne, LaunchDimensions.Covering(1000, 64), buffer.View, 1f);
        Launch(accelerator, AddOne, LaunchDimensions.Covering(1000, 64), buffer.View, 1f);

        var row = Assert.Single(accelerator.Profiler.Summary());
        Assert.Equal("add_one", row.Kernel);
        Assert.Equal(2, row.Launches);
        Assert.True(row.Milliseconds >= 0);
        Assert.All(buffer.ToArray(), v => Assert.Equal(2f, v));
    }

    /// <summary>The catalog lists OpenCL devices as opencl:0.. with their limits, opens them, and explains a missing one.</summary>
    [OpenCLFact]
    public void CatalogListsAndOpensOpenCLDevices()
    {
        var devices = DeviceCatalog.Enumerate(out var problems);
        var opencl = devices.Where(d => d.Kind == AcceleratorKind.OpenCL).ToArray();
        Assert.NotEmpty(opencl);
        Assert.DoesNotContain(problems, p => p.StartsWith("opencl:", StringComparison.Ordinal));
        for (int i = 0; i < opencl.Length; i++)
        {
            Assert.Equal($"opencl:{i}", opencl[i].Id);
            Assert.False(string.IsNullOrWhiteSpace(opencl[i].Name));
            Assert.False(string.IsNullOrWhiteSpace(opencl[i].Platform));
            Assert.Contains("OpenCL C", opencl[i].Version, StringComparison.Ordinal);
            Assert.True(opencl[i].MemoryBytes > 0);
            Assert.True(opencl[i].ComputeUnits > 0);
            Assert.True(opencl[i].MaxGroupSize > 0);
        }

        using (var first = DeviceCatalog.Open("opencl:0"))
        {
            Assert.Equal("opencl:0", first.Id);
            Assert.Equal(opencl[0].Name, first.Name);
        }

        var e = Assert.Throws<NotSupportedException>(() => DeviceCatalog.Open("opencl:99"));
        Assert.Contains("opencl:0", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Without OpenCL, opening it says why instead of crashing.</summary>
    [Fact]
    public void AbsentOpenCLIsExplained()
    {
        if (OpenCLFactAttribute.AbsentBecause is not { } why)
        {
            return;
        }

        var e = Assert.Throws<NotSupportedException>(() => DeviceCatalog.Open("opencl"));
        Assert.Contains(why["opencl: ".Length..], e.Message, StringComparison.Ordinal);
    }

    /// <summary>A disposed accelerator refuses work instead of passing released handles to the driver.</summary>
    [OpenCLFact]
    public void DisposedAcceleratorRefusesWork()
    {
        var accelerator = DeviceCatalog.Open("opencl");
        var buffer = accelerator.Allocate<float>(8);
        Launch(accelerator, AddOne, new LaunchDimensions(1, 8), buffer.View, 1f);
        buffer.Dispose();
        accelerator.Dispose();
        Assert.Throws<ObjectDisposedException>(() => accelerator.Allocate<float>(1));
        Assert.Throws<ObjectDisposedException>(accelerator.Synchronize);
    }

    private static void Launch(Accelerator accelerator, KernelDefinition kernel, in LaunchDimensions dimensions, ArrayView<float> view, float value)
    {
        var arguments = default(KernelArguments);
        arguments.Add(view);
        arguments.Add(value);
        accelerator.Launch(kernel, dimensions, arguments, default(NoEmulatorArguments), null, null);
    }

    private static void Launch(Accelerator accelerator, KernelDefinition kernel, in LaunchDimensions dimensions, ArrayView<float> view)
    {
        var arguments = default(KernelArguments);
        arguments.Add(view);
        accelerator.Launch(kernel, dimensions, arguments, default(NoEmulatorArguments), null, null);
    }

    // The OpenCL backend ignores the emulator's typed arguments and bodies; a launch still needs a struct to name.
    private struct NoEmulatorArguments
    {
    }
}
