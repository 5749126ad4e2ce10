using System.Runtime.InteropServices;

namespace GpuTransformer.Runtime;

/// <summary>
/// One device the ops run on: it allocates memory, moves data, and launches generated kernels in order on one queue.
/// Get one from <see cref="DeviceCatalog.Open"/>. Dispose it to release its context and every compiled kernel;
/// buffers must be disposed before it.
/// </summary>
public abstract class Accelerator : IDisposable
{
    private bool disposed;
    private long bytesUploaded;
    private long bytesDownloaded;
    private long bytesAllocated;

    /// <summary>Creates an accelerator for <paramref name="description"/>.</summary>
    /// <param name="description">What the device is.</param>
    protected Accelerator(DeviceDescription description)
    {
        Description = description;
    }

    /// <summary>What the device is.</summary>
    public DeviceDescription Description { get; }

    /// <summary>The id it was opened by (<c>cpu</c>, <c>emulator</c>, <c>opencl:0</c>, ...).</summary>
    public string Id => Description.Id;

    /// <summary>The device's name.</summary>
    public string Name => Description.Name;

    /// <summary>The backend.</summary>
    public AcceleratorKind Kind => Description.Kind;

    /// <summary>The largest work-group a kernel may be launched with.</summary>
    public abstract int MaxGroupSize { get; }

    /// <summary>The most group-shared memory one group may use, in bytes.</summary>
    public abstract int MaxSharedMemoryBytes { get; }

    /// <summary>
    /// The group size ops should choose for reductions and row-wise kernels: large on GPUs, small on the emulator,
    /// which runs each work-item of a synchronising group on its own thread.
    /// </summary>
    public abstract int PreferredGroupSize { get; }

    /// <summary>When set, launches record their times here.</summary>
    public KernelProfiler? Profiler { get; set; }

    /// <summary>Bytes copied from the host to this device so far (uploads of weights, inputs, per-step ids and edits).</summary>
    public long BytesUploaded => Interlocked.Read(ref bytesUploaded);

    /// <summary>Bytes copied from this device to the host so far: what a decoding step brings back is visible here.</summary>
    public long BytesDownloaded => Interlocked.Read(ref bytesDownloaded);

    /// <summary>
    /// Bytes of device memory allocated on this accelerator and not yet disposed: what a leak of per-call buffers
    /// would grow (memory packed by the cpu backend's GEMM is not counted here).
    /// </summary>
    public long BytesAllocated => Interlocked.Read(ref bytesAllocated);

    /// <summary>Whether <see cref="Dispose()"/> has run.</summary>
    protected bool IsDisposed => disposed;

    /// <summary>Allocates <paramref name="length"/> elements. Contents are undefined until written.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="length">Elements; may be 0.</param>
    /// <returns>The buffer; dispose it.</returns>
    /// <exception cref="DeviceException">The device is out of memory (the message gives the sizes).</exception>
    public unsafe MemoryBuffer<T> Allocate<T>(int length)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new MemoryBuffer<T>(AllocateMemory(Math.Max(1L, (long)length * sizeof(T))), length);
    }

    /// <summary>Allocates a buffer holding a copy of <paramref name="data"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">The elements.</param>
    /// <returns>The buffer; dispose it.</returns>
    public MemoryBuffer<T> Upload<T>(ReadOnlySpan<T> data)
        where T : unmanaged
    {
        var buffer = Allocate<T>(data.Length);
        try
        {
            buffer.CopyFrom(data);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> on the device, in queue order.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="source">The elements to copy.</param>
    /// <param name="destination">A view at least as long.</param>
    /// <exception cref="ArgumentException">A view is on another accelerator, or the destination is too short.</exception>
    public unsafe void Copy<T>(ArrayView<T> source, ArrayView<T> destination)
        where T : unmanaged
    {
        if (source.IsEmpty)
        {
            return;
        }

        if (destination.Length < source.Length)
        {
            throw new ArgumentException($"copy of {source.Length} elements into a view of {destination.Length}", nameof(destination));
        }

        var from = CheckOwned(source.Memory, nameof(source));
        var to = CheckOwned(destination.Memory, nameof(destination));
        from.CopyTo(to, source.Offset * sizeof(T), destination.Offset * sizeof(T), (long)source.Length * sizeof(T));
    }

    /// <summary>
    /// Launches a generated kernel. Generated launchers call this; the emulator runs the C# kernel with
    /// <paramref name="emulatorArguments"/>, other backends launch the compiled kernel with <paramref name="arguments"/>.
    /// </summary>
    /// <typeparam name="TArgs">The generated struct holding the C# arguments.</typeparam>
    /// <param name="kernel">The kernel.</param>
    /// <param name="dimensions">Grid and group sizes.</param>
    /// <param name="arguments">The arguments in parameter order.</param>
    /// <param name="emulatorArguments">The same arguments, typed.</param>
    /// <param name="emulatorBody">Calls the C# kernel for the current work-item.</param>
    /// <param name="emulatorGroupBody">
    /// For kernels with barriers: runs a whole group as work-item loops (see <see cref="Emulator.WorkGroupLoop"/>);
    /// null for barrier-free kernels.
    /// </param>
    /// <exception cref="ArgumentException">The arguments do not match the kernel's parameters, or a view is on another accelerator.</exception>
    /// <exception cref="NotSupportedException">This accelerator does not run kernels (cpu).</exception>
    public unsafe void Launch<TArgs>(KernelDefinition kernel, in LaunchDimensions dimensions, in KernelArguments arguments, in TArgs emulatorArguments, delegate*<in TArgs, void> emulatorBody, delegate*<in TArgs, Emulator.WorkGroupLoop, void> emulatorGroupBody)
        where TArgs : struct
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Validate(kernel, dimensions, arguments);
        if (dimensions.GroupCount == 0)
        {
            return;
        }

        Execute(kernel, dimensions, arguments, emulatorArguments, emulatorBody, emulatorGroupBody);
    }

    /// <summary>Waits until every queued copy and launch has finished.</summary>
    public abstract void Synchronize();

    /// <inheritdoc />
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            Dispose(true);
            GC.SuppressFinalize(this);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Id} ({Name})";

    /// <summary>Allocates device memory.</summary>
    /// <param name="bytes">Size, at least 1.</param>
    /// <returns>The allocation.</returns>
    protected abstract DeviceMemory AllocateMemory(long bytes);

    /// <summary>Runs a validated launch of at least one group.</summary>
    /// <typeparam name="TArgs">The generated argument struct.</typeparam>
    /// <param name="kernel">The kernel.</param>
    /// <param name="dimensions">Grid and group sizes.</param>
    /// <param name="arguments">The arguments for a compiled kernel.</param>
    /// <param name="emulatorArguments">The typed arguments for the C# kernel.</param>
    /// <param name="emulatorBody">Calls the C# kernel for one work-item.</param>
    /// <param name="emulatorGroupBody">Runs one group as work-item loops; null for barrier-free kernels.</param>
    protected abstract unsafe void Execute<TArgs>(KernelDefinition kernel, in LaunchDimensions dimensions, in KernelArguments arguments, in TArgs emulatorArguments, delegate*<in TArgs, void> emulatorBody, delegate*<in TArgs, Emulator.WorkGroupLoop, void> emulatorGroupBody)
        where TArgs : struct;

    /// <summary>Releases the context, queues and compiled kernels.</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }

    private DeviceMemory CheckOwned(DeviceMemory? memory, string name)
    {
        if (memory is null || memory.Accelerator != this)
        {
            throw new ArgumentException($"the view is not memory of {Id}", name);
        }

        memory.ThrowIfDisposed();
        return memory;
    }

    private void Validate(KernelDefinition kernel, in LaunchDimensions dimensions, in KernelArguments arguments)
    {
        if (dimensions.GroupSize > MaxGroupSize)
        {
            throw new ArgumentException($"{kernel.Name}: group of {dimensions.GroupSize} work-items exceeds {Id}'s maximum of {MaxGroupSize}", nameof(dimensions));
        }

        if (kernel.SharedMemoryBytes > MaxSharedMemoryBytes)
        {
            throw new ArgumentException($"{kernel.Name}: {kernel.SharedMemoryBytes} bytes of shared memory exceed {Id}'s {MaxSharedMemoryBytes}", nameof(kernel));
        }

        if (arguments.Count != kernel.Parameters.Count)
        {
            throw new ArgumentException($"{kernel.Name}: {arguments.Count} arguments for {kernel.Parameters.Count} parameters", nameof(arguments));
        }

        for (int i = 0; i < arguments.Count; i++)
        {
            var a = arguments[i];
            var p = kernel.Parameters[i];
            if (a.IsView != p.IsView || a.ElementType != p.ElementType)
            {
                throw new ArgumentException($"{kernel.Name}: argument {i} does not match parameter '{p.Name}'", nameof(arguments));
            }

            if (a.IsView && a.Memory is not null)
            {
                if (a.Memory.Accelerator != this)
                {
                    throw new ArgumentException($"{kernel.Name}: '{p.Name}' is memory of {a.Memory.Accelerator.Id}, not of {Id}", nameof(arguments));
                }

                a.Memory.ThrowIfDisposed();
                if ((a.Offset + a.Length) * a.ElementSize > a.Memory.Bytes)
                {
                    throw new ArgumentException($"{kernel.Name}: '{p.Name}' reaches past the end of its buffer", nameof(arguments));
                }
            }
        }
    }

    /// <summary>Counts a host-to-device copy.</summary>
    internal void CountAllocation(long bytes) => Interlocked.Add(ref bytesAllocated, bytes);

    internal void CountUpload(long bytes) => Interlocked.Add(ref bytesUploaded, bytes);

    /// <summary>Counts a device-to-host copy.</summary>
    internal void CountDownload(long bytes) => Interlocked.Add(ref bytesDownloaded, bytes);

    /// <summary>Allocates zeroed, 64-byte aligned host memory, or throws a <see cref="DeviceException"/> naming the size.</summary>
    /// <param name="bytes">Size.</param>
    /// <returns>The address.</returns>
    internal static unsafe void* AllocateHost(long bytes)
    {
        try
        {
            void* p = NativeMemory.AlignedAlloc((nuint)bytes, 64);
            NativeMemory.Clear(p, (nuint)bytes);
            return p;
        }
        catch (OutOfMemoryException e)
        {
            throw new DeviceException($"out of host memory allocating {bytes:N0} bytes", e);
        }
    }
}
