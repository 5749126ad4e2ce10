using System.Runtime.InteropServices;
using System.Text;

namespace GpuTransformer.Runtime.Cuda;

/// <summary>
/// A CUDA device through the driver API: its primary context (shared with anything else in the process that uses the
/// device), one stream that every copy and launch goes to in order, and the kernels compiled by NVRTC to PTX once per
/// <see cref="KernelDefinition"/> and loaded as modules. Launches pass arguments by the generated sources' calling
/// convention (a view is a device pointer already offset plus an <c>int</c> length; a scalar is its value) from a
/// per-accelerator scratch block, so a launch allocates nothing. Open one with <c>DeviceCatalog.Open("cuda:N")</c>.
/// Methods may be called from any thread; calls are serialised, and each makes the context current on its thread.
/// </summary>
public sealed unsafe class CudaAccelerator : Accelerator
{
    // Pinned staging for copies: large enough that a chunk's DMA dwarfs the per-chunk synchronisation, small enough
    // to be negligible next to device memory.
    private const int StagingBytes = 4 << 20;

    // Each view parameter takes two slots (pointer, length), each scalar one.
    private const int ArgumentSlots = KernelArguments.Capacity * 2;

    private readonly CudaDriver driver;
    private readonly CudaDeviceInfo info;
    private readonly Lock gate = new();
    private readonly Dictionary<KernelDefinition, nint> functions = new(ReferenceEqualityComparer.Instance);
    private readonly List<nint> modules = [];
    private readonly ulong* argumentValues;
    private readonly void** argumentPointers;
    private nint context;
    private nint stream;
    private nint startEvent;
    private nint endEvent;
    private byte* staging;
    private CudaKernelCompiler? compiler;
    private string? architecture;

    internal CudaAccelerator(CudaDriver driver, CudaDeviceInfo info)
        : base(info.Description)
    {
        this.driver = driver;
        this.info = info;
        argumentValues = (ulong*)NativeMemory.AllocZeroed(ArgumentSlots, sizeof(ulong));
        argumentPointers = (void**)NativeMemory.AllocZeroed(ArgumentSlots, (nuint)sizeof(void*));
        for (int i = 0; i < ArgumentSlots; i++)
        {
            // cuLaunchKernel reads each argument through its own pointer; the pointers never change, only the values.
            argumentPointers[i] = argumentValues + i;
        }

        try
        {
            string doing = $"opening {info.Description.Id}";
            nint primary;
            driver.Check(driver.cuDevicePrimaryCtxRetain(&primary, info.Device), "cuDevicePrimaryCtxRetain", doing);
            context = primary;
            driver.Check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent", doing);
            nint created;
            driver.Check(driver.cuStreamCreate(&created, 0), "cuStreamCreate", doing);
            stream = created;
        }
        catch
        {
            ReleaseNative();
            throw;
        }
    }

    /// <summary>
    /// The kernel compiler this process would use: <c>NVRTC 12.4 (libnvrtc.so.12)</c>, or why there is none (then
    /// devices are listed and memory works, but no kernel can be launched). Loads NVRTC on first use.
    /// </summary>
    public static string CompilerStatus
    {
        get
        {
            var nvrtc = Nvrtc.TryLoad(out string? problem);
            return nvrtc is null ? $"nothing: {problem}" : $"NVRTC {nvrtc.Version} ({nvrtc.Path})";
        }
    }

    /// <summary>The compute capability, e.g. <c>sm_90</c>.</summary>
    public string ComputeCapability => info.ComputeCapability;

    /// <inheritdoc />
    public override int MaxGroupSize => info.MaxThreadsPerBlock;

    /// <summary>The static <c>__shared__</c> memory one block may declare (the generated kernels use no dynamic shared memory).</summary>
    public override int MaxSharedMemoryBytes => info.MaxSharedMemoryPerBlock;

    /// <summary>
    /// 256 threads: eight warps, enough to hide memory latency in the row-wise kernels on every architecture since
    /// Maxwell, while leaving several blocks resident per multiprocessor.
    /// </summary>
    public override int PreferredGroupSize => 256;

    /// <inheritdoc />
    /// <exception cref="CudaException">A queued copy or kernel failed (the error is reported here, where it surfaces).</exception>
    public override void Synchronize()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            MakeCurrent();
            int result = driver.cuStreamSynchronize(stream);
            if (result != CudaDriver.Success)
            {
                throw driver.Failure(result, "cuStreamSynchronize", $"waiting for {Id}'s queue (a kernel or copy queued earlier failed)");
            }
        }
    }

    /// <summary>Compiles and loads <paramref name="kernel"/> now instead of at its first launch (to keep compilation out of timings).</summary>
    /// <param name="kernel">The kernel.</param>
    /// <exception cref="CudaException">NVRTC is absent or rejected the source, or the driver rejected the PTX.</exception>
    public void Prepare(KernelDefinition kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            MakeCurrent();
            GetFunction(kernel);
        }
    }

    /// <summary>Copies host bytes to device memory; returns when they are on the device.</summary>
    /// <param name="source">The bytes.</param>
    /// <param name="destination">The device address.</param>
    internal void Upload(ReadOnlySpan<byte> source, ulong destination)
    {
        if (source.IsEmpty)
        {
            return;
        }

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            MakeCurrent();
            EnsureStaging();
            for (int done = 0; done < source.Length; done += StagingBytes)
            {
                int count = Math.Min(StagingBytes, source.Length - done);
                source.Slice(done, count).CopyTo(new Span<byte>(staging, count));
                int result = driver.cuMemcpyHtoDAsync_v2(destination + (ulong)done, staging, (nuint)count, stream);
                if (result == CudaDriver.Success)
                {
                    // The staging buffer is reused by the next chunk, so this one's copy must be done.
                    result = driver.cuStreamSynchronize(stream);
                }

                if (result != CudaDriver.Success)
                {
                    throw driver.Failure(result, "cuMemcpyHtoDAsync_v2", $"uploading {source.Length:N0} bytes to {Id}");
                }
            }
        }
    }

    /// <summary>Copies device memory to the host after all queued work.</summary>
    /// <param name="source">The device address.</param>
    /// <param name="destination">Receives the bytes.</param>
    internal void Download(ulong source, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return;
        }

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            MakeCurrent();
            EnsureStaging();
            for (int done = 0; done < destination.Length; done += StagingBytes)
            {
                int count = Math.Min(StagingBytes, destination.Length - done);
                int result = driver.cuMemcpyDtoHAsync_v2(staging, source + (ulong)done, (nuint)count, stream);
                if (result == CudaDriver.Success)
                {
                    result = driver.cuStreamSynchronize(stream);
                }

                if (result != CudaDriver.Success)
                {
                    throw driver.Failure(result, "cuMemcpyDtoHAsync_v2", $"downloading {destination.Length:N0} bytes from {Id} (the error may come from a kernel queued earlier)");
                }

                new ReadOnlySpan<byte>(staging, count).CopyTo(destination.Slice(done, count));
            }
        }
    }

    /// <summary>Queues a device-to-device copy.</summary>
    /// <param name="source">From.</param>
    /// <param name="destination">To.</param>
    /// <param name="bytes">How many bytes.</param>
    internal void CopyDeviceToDevice(ulong source, ulong destination, long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            MakeCurrent();
            int result = driver.cuMemcpyDtoDAsync_v2(destination, source, (nuint)bytes, stream);
            if (result != CudaDriver.Success)
            {
                throw driver.Failure(result, "cuMemcpyDtoDAsync_v2", $"copying {bytes:N0} bytes on {Id}");
            }
        }
    }

    /// <summary>Frees an allocation; nothing once the accelerator is disposed (its context release freed it).</summary>
    /// <param name="pointer">The allocation.</param>
    internal void Free(ulong pointer)
    {
        lock (gate)
        {
            if (IsDisposed || context == 0)
            {
                return;
            }

            // Release runs from Dispose, which must not throw; a failure here (after a kernel fault has poisoned the
            // context) leaves nothing to do but go on.
            if (driver.cuCtxSetCurrent(context) == CudaDriver.Success)
            {
                _ = driver.cuMemFree_v2(pointer);
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="CudaException">Out of device memory (the message gives the request and the free and total memory) or another driver error.</exception>
    protected override DeviceMemory AllocateMemory(long bytes)
    {
        lock (gate)
        {
            MakeCurrent();
            ulong pointer;
            int result = driver.cuMemAlloc_v2(&pointer, (nuint)bytes);
            if (result == CudaDriver.ErrorOutOfMemory)
            {
                nuint free, total;
                string memory = driver.cuMemGetInfo_v2(&free, &total) == CudaDriver.Success ? $"{(ulong)free:N0} of {(ulong)total:N0} bytes are free" : "free memory unknown";
                throw new CudaException("cuMemAlloc_v2", result, driver.ErrorName(result), $"out of device memory on {Id} ({Name}) allocating {bytes:N0} bytes: {memory}");
            }

            driver.Check(result, "cuMemAlloc_v2", $"allocating {bytes:N0} bytes on {Id}");
            return new CudaMemory(this, pointer, bytes);
        }
    }

    /// <inheritdoc />
    protected override void Execute<TArgs>(KernelDefinition kernel, in LaunchDimensions dimensions, in KernelArguments arguments, in TArgs emulatorArguments, delegate*<in TArgs, void> emulatorBody, delegate*<in TArgs, Emulator.WorkGroupLoop, void> emulatorGroupBody)
    {
        if (dimensions.GridX > info.MaxGridX || dimensions.GridY > info.MaxGridY || dimensions.GridZ > info.MaxGridZ)
        {
            throw new ArgumentException($"{kernel.Name}: {dimensions} exceeds {Id}'s grid of {info.MaxGridX}x{info.MaxGridY}x{info.MaxGridZ} blocks", nameof(dimensions));
        }

        lock (gate)
        {
            MakeCurrent();
            nint function = GetFunction(kernel);
            int slot = 0;
            for (int i = 0; i < arguments.Count; i++)
            {
                var argument = arguments[i];
                if (argument.IsView)
                {
                    // An empty view may have no allocation: a null pointer with length 0, which the kernel never reads.
                    argumentValues[slot++] = argument.Memory is CudaMemory memory ? memory.DevicePointer + (ulong)(argument.Offset * argument.ElementSize) : 0;
                    argumentValues[slot++] = (uint)argument.Length;
                }
                else
                {
                    // Little-endian: a 4-byte parameter reads the low half of its 8-byte slot.
                    argumentValues[slot++] = argument.Bits;
                }
            }

            var profiler = Profiler;
            if (profiler is not null)
            {
                EnsureEvents();
                Launched(driver.cuEventRecord(startEvent, stream), "cuEventRecord", kernel, dimensions);
            }

            int result = driver.cuLaunchKernel(
                function,
                (uint)dimensions.GridX,
                (uint)dimensions.GridY,
                (uint)dimensions.GridZ,
                (uint)dimensions.GroupX,
                (uint)dimensions.GroupY,
                (uint)dimensions.GroupZ,
                0,
                stream,
                argumentPointers,
                null);
            Launched(result, "cuLaunchKernel", kernel, dimensions);
            if (profiler is not null)
            {
                Launched(driver.cuEventRecord(endEvent, stream), "cuEventRecord", kernel, dimensions);
                Launched(driver.cuEventSynchronize(endEvent), "cuEventSynchronize", kernel, dimensions);
                float milliseconds;
                Launched(driver.cuEventElapsedTime(&milliseconds, startEvent, endEvent), "cuEventElapsedTime", kernel, dimensions);
                profiler.Record(kernel.Name, milliseconds);
            }
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        lock (gate)
        {
            ReleaseNative();
        }
    }

    private static byte[] Utf8Z(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    private void Launched(int result, string call, KernelDefinition kernel, in LaunchDimensions dimensions)
    {
        if (result != CudaDriver.Success)
        {
            throw driver.Failure(result, call, $"launching {kernel.Name} ({kernel.SourceMethod}) on {Id} with {dimensions}");
        }
    }

    private void MakeCurrent()
    {
        // The driver API keeps the current context per thread; callers may come from any thread, and setting it is a
        // thread-local store in the driver.
        int result = driver.cuCtxSetCurrent(context);
        if (result != CudaDriver.Success)
        {
            throw driver.Failure(result, "cuCtxSetCurrent", $"using {Id}");
        }
    }

    private void EnsureStaging()
    {
        if (staging == null)
        {
            void* pinned;
            driver.Check(driver.cuMemAllocHost_v2(&pinned, StagingBytes), "cuMemAllocHost_v2", $"allocating {StagingBytes:N0} bytes of pinned host memory for {Id}'s copies");
            staging = (byte*)pinned;
        }
    }

    private void EnsureEvents()
    {
        if (startEvent == 0)
        {
            nint start, end;
            driver.Check(driver.cuEventCreate(&start, 0), "cuEventCreate", $"creating {Id}'s profiling events");
            startEvent = start;
            driver.Check(driver.cuEventCreate(&end, 0), "cuEventCreate", $"creating {Id}'s profiling events");
            endEvent = end;
        }
    }

    private nint GetFunction(KernelDefinition kernel)
    {
        if (functions.TryGetValue(kernel, out nint function))
        {
            return function;
        }

        if (compiler is null)
        {
            var nvrtc = Nvrtc.TryLoad(out string? problem) ?? throw new CudaException($"cannot compile {kernel.Name} ({kernel.SourceMethod}) for {Id}: {problem}");
            compiler = new CudaKernelCompiler(nvrtc, new PtxCache(PtxCache.DefaultDirectory()));
            architecture = compiler.Architecture(info.ComputeMajor, info.ComputeMinor);
        }

        byte[] ptx = compiler.GetPtx(kernel, architecture!);
        nint module;
        int result;
        fixed (byte* image = ptx)
        {
            result = driver.cuModuleLoadData(&module, image);
        }

        if (result != CudaDriver.Success)
        {
            // CUDA_ERROR_UNSUPPORTED_PTX_VERSION here means NVRTC is newer than the driver.
            throw driver.Failure(result, "cuModuleLoadData", $"loading the PTX of {kernel.Name} ({kernel.SourceMethod}) for {architecture} on {Id} (driver {CudaProvider.FormatDriverVersion(driver.Version)})");
        }

        byte[] name = Utf8Z(kernel.Name);
        fixed (byte* entry = name)
        {
            result = driver.cuModuleGetFunction(&function, module, entry);
        }

        if (result != CudaDriver.Success)
        {
            _ = driver.cuModuleUnload(module);
            throw driver.Failure(result, "cuModuleGetFunction", $"finding entry point '{kernel.Name}' ({kernel.SourceMethod}); it must be extern \"C\"");
        }

        modules.Add(module);
        functions.Add(kernel, function);
        return function;
    }

    private void ReleaseNative()
    {
        // Best effort and never throwing: Dispose must not fail, and after a kernel fault every call reports the
        // fault again.
        if (context != 0 && driver.cuCtxSetCurrent(context) == CudaDriver.Success)
        {
            if (stream != 0)
            {
                _ = driver.cuStreamSynchronize(stream);
            }

            foreach (nint module in modules)
            {
                _ = driver.cuModuleUnload(module);
            }

            if (startEvent != 0)
            {
                _ = driver.cuEventDestroy_v2(startEvent);
            }

            if (endEvent != 0)
            {
                _ = driver.cuEventDestroy_v2(endEvent);
            }

            if (staging != null)
            {
                _ = driver.cuMemFreeHost(staging);
            }

            if (stream != 0)
            {
                _ = driver.cuStreamDestroy_v2(stream);
            }
        }

        modules.Clear();
        functions.Clear();
        startEvent = endEvent = stream = 0;
        staging = null;
        if (context != 0)
        {
            _ = driver.cuDevicePrimaryCtxRelease_v2(info.Device);
            context = 0;
        }

        NativeMemory.Free(argumentValues);
        NativeMemory.Free(argumentPointers);
    }
}
