using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace GpuTransformer.Runtime.OpenCL;

/// <summary>
/// An OpenCL device (<c>opencl:N</c>): one context and one in-order command queue, buffers as <c>cl_mem</c>, and
/// the generated OpenCL C of each <see cref="KernelDefinition"/> built once, on its first launch, and kept until
/// the accelerator is disposed. Open one with <see cref="DeviceCatalog.Open"/>.
/// </summary>
/// <remarks>
/// Launches follow the calling convention of <see cref="KernelDefinition"/>: a view passes its buffer, its element
/// offset and its length (the kernel adds the offset itself, because OpenCL 1.2 cannot offset a <c>cl_mem</c>
/// without sub-buffers and their alignment rules); a scalar passes its 32 or 64 bits. Programs are built with
/// <c>-cl-std=CL1.2</c> and never with fast-math options, so results stay within the tolerances the CPU
/// implementations are held to.
/// </remarks>
public sealed unsafe class OpenCLAccelerator : Accelerator
{
    private const int Dimensions = 3;

    private readonly OpenCLApi api;
    private readonly nint device;
    private readonly ConcurrentDictionary<KernelDefinition, CompiledKernel> kernels = new(ReferenceEqualityComparer.Instance);
    private readonly Lock buildGate = new();
    private readonly Lock launchGate = new();
    private readonly long maxAllocationBytes;
    private nint context;
    private nint queue;
    private nint emptyViewBuffer;

    internal OpenCLAccelerator(OpenCLApi api, nint platform, nint device, DeviceDescription description)
        : base(description)
    {
        this.api = api;
        this.device = device;
        MaxGroupSize = (int)Math.Min(api.DeviceValue<nuint>(device, OpenCLApi.DeviceMaxWorkGroupSize), int.MaxValue);
        MaxSharedMemoryBytes = (int)Math.Min(api.DeviceValue<ulong>(device, OpenCLApi.DeviceLocalMemSize), int.MaxValue);
        maxAllocationBytes = (long)Math.Min(api.DeviceValue<ulong>(device, OpenCLApi.DeviceMaxMemAllocSize), long.MaxValue);
        BuildOptions = ChooseBuildOptions(api, device);

        try
        {
            nint* properties = stackalloc nint[] { OpenCLApi.ContextPlatform, platform, 0 };
            nint deviceHandle = device;
            int status;
            context = api.CreateContext(properties, 1, &deviceHandle, 0, 0, &status);
            OpenCLApi.Check(status, "clCreateContext");
            queue = api.CreateCommandQueue(context, device, OpenCLApi.QueueProfilingEnable, &status);
            OpenCLApi.Check(status, "clCreateCommandQueue");
            emptyViewBuffer = CreateBuffer(sizeof(long));
        }
        catch
        {
            ReleaseContext();
            throw;
        }
    }

    /// <summary>CL_DEVICE_MAX_WORK_GROUP_SIZE.</summary>
    public override int MaxGroupSize { get; }

    /// <summary>CL_DEVICE_LOCAL_MEM_SIZE.</summary>
    public override int MaxSharedMemoryBytes { get; }

    /// <summary>
    /// 256 on GPUs, where it keeps enough warps per compute unit to hide memory latency; 64 on CPU devices, where a
    /// group is a loop on one core and large groups only lengthen reductions. Never more than <see cref="MaxGroupSize"/>.
    /// </summary>
    public override int PreferredGroupSize => Math.Min(Description.IsGpu ? 256 : 64, MaxGroupSize);

    /// <summary>CL_DEVICE_MAX_MEM_ALLOC_SIZE: the largest single buffer the device allows.</summary>
    public long MaxAllocationBytes => maxAllocationBytes;

    /// <summary>The options every program is built with.</summary>
    public string BuildOptions { get; }

    /// <summary>Kernels built so far (each <see cref="KernelDefinition"/> is built once per accelerator).</summary>
    public int CompiledKernelCount => kernels.Count;

    /// <inheritdoc />
    /// <exception cref="OpenCLException">A queued command failed.</exception>
    public override void Synchronize()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        OpenCLApi.Check(api.Finish(queue), "clFinish");
    }

    /// <inheritdoc />
    protected override DeviceMemory AllocateMemory(long bytes) => new OpenCLMemory(this, bytes);

    /// <inheritdoc />
    protected override void Execute<TArgs>(KernelDefinition kernel, in LaunchDimensions dimensions, in KernelArguments arguments, in TArgs emulatorArguments, delegate*<in TArgs, void> emulatorBody, delegate*<in TArgs, Emulator.WorkGroupLoop, void> emulatorGroupBody)
    {
        if (!kernels.TryGetValue(kernel, out var compiled))
        {
            compiled = Build(kernel);
        }

        nuint* global = stackalloc nuint[Dimensions];
        nuint* local = stackalloc nuint[Dimensions];
        local[0] = (nuint)dimensions.GroupX;
        local[1] = (nuint)dimensions.GroupY;
        local[2] = (nuint)dimensions.GroupZ;
        global[0] = (nuint)dimensions.GridX * local[0];
        global[1] = (nuint)dimensions.GridY * local[1];
        global[2] = (nuint)dimensions.GridZ * local[2];

        // Read once: the profiler may be detached by another thread while this launch runs.
        var profiler = Profiler;
        nint finished = 0;
        int status;

        // clSetKernelArg is the one OpenCL call that is not thread-safe, and the arguments must stay set until the
        // launch is enqueued, so setting them and enqueuing is one critical section.
        lock (launchGate)
        {
            SetArguments(compiled.Kernel, kernel, arguments);
            status = api.EnqueueNDRangeKernel(queue, compiled.Kernel, Dimensions, null, global, local, 0, null, profiler is null ? null : &finished);
        }

        if (status != OpenCLApi.Success)
        {
            throw new OpenCLException("clEnqueueNDRangeKernel", status, $"launching {kernel.Name} ({kernel.SourceMethod}) with {dimensions} on {Id} ({Name})");
        }

        if (profiler is not null)
        {
            profiler.Record(kernel.Name, WaitAndMeasure(finished, kernel));
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (queue != 0)
        {
            // Pending commands may still read buffers or kernels released below.
            _ = api.Finish(queue);
        }

        foreach (var compiled in kernels.Values)
        {
            _ = api.ReleaseKernel(compiled.Kernel);
            _ = api.ReleaseProgram(compiled.Program);
        }

        kernels.Clear();
        ReleaseContext();
    }

    /// <summary>Creates a read-write buffer of <paramref name="bytes"/>.</summary>
    /// <exception cref="OpenCLException">The device cannot allocate it; the message gives the sizes.</exception>
    internal nint CreateBuffer(long bytes)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        int status = OpenCLApi.Success;
        nint buffer = bytes > 0 && (ulong)bytes <= nuint.MaxValue ? api.CreateBuffer(context, OpenCLApi.MemReadWrite, (nuint)bytes, null, &status) : 0;
        if (buffer == 0 || status != OpenCLApi.Success)
        {
            throw new OpenCLException("clCreateBuffer", buffer == 0 && status == OpenCLApi.Success ? -61 : status, string.Create(CultureInfo.InvariantCulture, $"out of device memory on {Id} ({Name}) allocating {bytes:N0} bytes; the device has {Description.MemoryBytes:N0} bytes and allows at most {maxAllocationBytes:N0} in one buffer"));
        }

        return buffer;
    }

    internal void EnqueueWrite(nint buffer, long byteOffset, int bytes, byte* source) =>
        OpenCLApi.Check(api.EnqueueWriteBuffer(queue, buffer, 1, (nuint)byteOffset, (nuint)bytes, source, 0, null, null), "clEnqueueWriteBuffer");

    internal void EnqueueRead(nint buffer, long byteOffset, int bytes, byte* destination) =>
        OpenCLApi.Check(api.EnqueueReadBuffer(queue, buffer, 1, (nuint)byteOffset, (nuint)bytes, destination, 0, null, null), "clEnqueueReadBuffer");

    internal void EnqueueCopy(nint source, nint destination, long sourceOffset, long destinationOffset, long bytes) =>
        OpenCLApi.Check(api.EnqueueCopyBuffer(queue, source, destination, (nuint)sourceOffset, (nuint)destinationOffset, (nuint)bytes, 0, null, null), "clEnqueueCopyBuffer");

    internal void ReleaseBuffer(nint buffer) => _ = api.ReleaseMemObject(buffer);

    private static string ChooseBuildOptions(OpenCLApi api, nint device)
    {
        var options = new StringBuilder();
        string language = api.DeviceString(device, OpenCLApi.DeviceOpenCLCVersion);

        // "OpenCL C 1.2 ..." or newer: ask for 1.2 so that every device compiles the same dialect. A 1.0/1.1
        // compiler rejects the option, and its default dialect is all it has.
        if (TryParseLanguageVersion(language, out int major, out int minor) && (major > 1 || minor >= 2))
        {
            options.Append("-cl-std=CL1.2");
        }

        // OpenCL allows 2.5 ulp for division and 3 ulp for sqrt; where the device can round them correctly, ask for
        // it, so that results match the CPU implementations (which are IEEE) as closely as possible.
        if ((api.DeviceValue<ulong>(device, OpenCLApi.DeviceSingleFpConfig) & OpenCLApi.FpCorrectlyRoundedDivideSqrt) != 0)
        {
            options.Append(options.Length > 0 ? " " : "").Append("-cl-fp32-correctly-rounded-divide-sqrt");
        }

        return options.ToString();
    }

    private static bool TryParseLanguageVersion(string text, out int major, out int minor)
    {
        major = minor = 0;
        const string Prefix = "OpenCL C ";
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        string version = text[Prefix.Length..].Split(' ')[0];
        int dot = version.IndexOf('.', StringComparison.Ordinal);
        return dot > 0
            && int.TryParse(version.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out major)
            && int.TryParse(version.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out minor);
    }

    private static byte[] NullTerminated(string text)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    private CompiledKernel Build(KernelDefinition kernel)
    {
        lock (buildGate)
        {
            if (kernels.TryGetValue(kernel, out var built))
            {
                return built;
            }

            if (string.IsNullOrWhiteSpace(kernel.OpenCLSource))
            {
                throw new NotSupportedException($"{kernel.Name} ({kernel.SourceMethod}) has no OpenCL source, so it cannot run on {Id}");
            }

            byte[] source = Encoding.UTF8.GetBytes(kernel.OpenCLSource);
            byte[] options = NullTerminated(BuildOptions);
            byte[] name = NullTerminated(kernel.Name);
            nint program;
            int status;
            fixed (byte* text = source)
            {
                byte* strings = text;
                nuint length = (nuint)source.Length;
                program = api.CreateProgramWithSource(context, 1, &strings, &length, &status);
            }

            if (status != OpenCLApi.Success)
            {
                throw new OpenCLException("clCreateProgramWithSource", status, $"kernel {kernel.Name} ({kernel.SourceMethod}) on {Id}");
            }

            try
            {
                nint deviceHandle = device;
                fixed (byte* o = options)
                {
                    status = api.BuildProgram(program, 1, &deviceHandle, o, 0, 0);
                }

                if (status != OpenCLApi.Success)
                {
                    string log = api.BuildLog(program, device);
                    throw new OpenCLException("clBuildProgram", status, $"kernel {kernel.Name} ({kernel.SourceMethod}) does not build for {Id} ({Name}) with options '{BuildOptions}'. Build log:{Environment.NewLine}{(log.Length == 0 ? "(empty)" : log)}");
                }

                nint handle;
                fixed (byte* n = name)
                {
                    handle = api.CreateKernel(program, n, &status);
                }

                if (status != OpenCLApi.Success)
                {
                    throw new OpenCLException("clCreateKernel", status, $"kernel {kernel.Name} ({kernel.SourceMethod}): the program built for {Id} has no __kernel of that name");
                }

                try
                {
                    CheckArgumentCount(kernel, handle);
                }
                catch
                {
                    _ = api.ReleaseKernel(handle);
                    throw;
                }

                built = new CompiledKernel(program, handle);
                kernels[kernel] = built;
                return built;
            }
            catch
            {
                _ = api.ReleaseProgram(program);
                throw;
            }
        }
    }

    // A source that does not follow the calling convention would otherwise fail at some later launch with
    // CL_INVALID_KERNEL_ARGS or CL_INVALID_ARG_INDEX, far from the cause.
    private void CheckArgumentCount(KernelDefinition kernel, nint handle)
    {
        uint declared;
        OpenCLApi.Check(api.GetKernelInfo(handle, OpenCLApi.KernelNumArgs, sizeof(uint), &declared, null), "clGetKernelInfo");
        int expected = kernel.Parameters.Sum(p => p.IsView ? 3 : 1);
        if (declared != expected)
        {
            throw new OpenCLException(string.Create(CultureInfo.InvariantCulture, $"kernel {kernel.Name} ({kernel.SourceMethod}) declares {declared} OpenCL arguments, but its {kernel.Parameters.Count} parameters need {expected} (a view is T* p_base, int p_offset, int p_length; a scalar is one argument)"));
        }
    }

    private void SetArguments(nint handle, KernelDefinition kernel, in KernelArguments arguments)
    {
        uint index = 0;
        for (int i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (argument.IsView)
            {
                // An empty view may have no allocation, but every cl_mem argument must be a valid buffer object.
                nint buffer = argument.Memory?.NativeHandle ?? 0;
                int offset = 0;
                if (buffer == 0)
                {
                    buffer = emptyViewBuffer;
                }
                else if (argument.Offset > int.MaxValue)
                {
                    throw new ArgumentException($"{kernel.Name}: '{kernel.Parameters[i].Name}' starts at element {argument.Offset}, past the int offsets OpenCL kernels take", nameof(arguments));
                }
                else
                {
                    offset = (int)argument.Offset;
                }

                int length = argument.Length;
                SetArgument(handle, kernel, i, index++, (nuint)sizeof(nint), &buffer);
                SetArgument(handle, kernel, i, index++, sizeof(int), &offset);
                SetArgument(handle, kernel, i, index++, sizeof(int), &length);
            }
            else if (argument.ElementType == KernelElementType.Int64)
            {
                ulong bits = argument.Bits;
                SetArgument(handle, kernel, i, index++, sizeof(ulong), &bits);
            }
            else
            {
                uint bits = (uint)argument.Bits;
                SetArgument(handle, kernel, i, index++, sizeof(uint), &bits);
            }
        }
    }

    private void SetArgument(nint handle, KernelDefinition kernel, int parameter, uint index, nuint size, void* value)
    {
        int status = api.SetKernelArg(handle, index, size, value);
        if (status != OpenCLApi.Success)
        {
            throw new OpenCLException("clSetKernelArg", status, $"kernel {kernel.Name} ({kernel.SourceMethod}), OpenCL argument {index} for parameter '{kernel.Parameters[parameter].Name}': the source does not follow the calling convention (a view is T* p_base, int p_offset, int p_length)");
        }
    }

    private double WaitAndMeasure(nint finished, KernelDefinition kernel)
    {
        try
        {
            int status = api.WaitForEvents(1, &finished);
            if (status != OpenCLApi.Success)
            {
                throw new OpenCLException("clWaitForEvents", status, $"kernel {kernel.Name} ({kernel.SourceMethod}) on {Id}");
            }

            ulong start;
            ulong end;
            OpenCLApi.Check(api.GetEventProfilingInfo(finished, OpenCLApi.ProfilingCommandStart, sizeof(ulong), &start, null), "clGetEventProfilingInfo");
            OpenCLApi.Check(api.GetEventProfilingInfo(finished, OpenCLApi.ProfilingCommandEnd, sizeof(ulong), &end, null), "clGetEventProfilingInfo");
            return end > start ? (end - start) / 1e6 : 0;
        }
        finally
        {
            _ = api.ReleaseEvent(finished);
        }
    }

    private void ReleaseContext()
    {
        if (emptyViewBuffer != 0)
        {
            _ = api.ReleaseMemObject(emptyViewBuffer);
            emptyViewBuffer = 0;
        }

        if (queue != 0)
        {
            _ = api.ReleaseCommandQueue(queue);
            queue = 0;
        }

        if (context != 0)
        {
            _ = api.ReleaseContext(context);
            context = 0;
        }
    }

    private sealed record CompiledKernel(nint Program, nint Kernel);
}
