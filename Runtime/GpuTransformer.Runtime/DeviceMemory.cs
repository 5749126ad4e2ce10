namespace GpuTransformer.Runtime;

/// <summary>
/// One allocation made by a backend: host memory (cpu, emulator), an OpenCL buffer object or a CUDA device pointer.
/// <see cref="MemoryBuffer{T}"/> is the typed owner users see; backends implement the copies.
/// </summary>
public abstract class DeviceMemory : IDisposable
{
    private int disposed;

    /// <summary>Creates the record of an allocation.</summary>
    /// <param name="accelerator">The accelerator that made it.</param>
    /// <param name="bytes">Its size.</param>
    protected DeviceMemory(Accelerator accelerator, long bytes)
    {
        Accelerator = accelerator;
        Bytes = bytes;
        accelerator.CountAllocation(bytes);
    }

    /// <summary>The accelerator that owns the memory.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>Whether the memory has been released.</summary>
    public bool IsDisposed => Volatile.Read(ref disposed) != 0;

    /// <summary>The host address of the memory, or null when the host cannot address it.</summary>
    public abstract unsafe void* HostPointer { get; }

    /// <summary>The native handle a launch passes to the device: <c>cl_mem</c> or <c>CUdeviceptr</c>; 0 for host memory.</summary>
    public abstract nint NativeHandle { get; }

    /// <summary>Copies <paramref name="source"/> to <paramref name="byteOffset"/>; returns when the data is on the device.</summary>
    /// <param name="source">The bytes to write.</param>
    /// <param name="byteOffset">Where in the allocation.</param>
    public void Write(ReadOnlySpan<byte> source, long byteOffset)
    {
        Accelerator.CountUpload(source.Length);
        WriteCore(source, byteOffset);
    }

    /// <summary>Copies from <paramref name="byteOffset"/> into <paramref name="destination"/>, after all queued work.</summary>
    /// <param name="destination">Receives the bytes.</param>
    /// <param name="byteOffset">Where in the allocation.</param>
    public void Read(Span<byte> destination, long byteOffset)
    {
        Accelerator.CountDownload(destination.Length);
        ReadCore(destination, byteOffset);
    }

    /// <summary>The backend's host-to-device copy.</summary>
    /// <param name="source">The bytes to write.</param>
    /// <param name="byteOffset">Where in the allocation.</param>
    protected abstract void WriteCore(ReadOnlySpan<byte> source, long byteOffset);

    /// <summary>The backend's device-to-host copy, after all queued work.</summary>
    /// <param name="destination">Receives the bytes.</param>
    /// <param name="byteOffset">Where in the allocation.</param>
    protected abstract void ReadCore(Span<byte> destination, long byteOffset);

    /// <summary>Copies bytes between two allocations of the same accelerator, in queue order.</summary>
    /// <param name="destination">The target allocation.</param>
    /// <param name="sourceOffset">Byte offset in this allocation.</param>
    /// <param name="destinationOffset">Byte offset in the target.</param>
    /// <param name="bytes">How many bytes.</param>
    public abstract void CopyTo(DeviceMemory destination, long sourceOffset, long destinationOffset, long bytes);

    /// <summary>Throws if the memory has been released.</summary>
    /// <exception cref="ObjectDisposedException">It has.</exception>
    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            Release();
            Accelerator.CountAllocation(-Bytes);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Frees the native memory; called once.</summary>
    protected abstract void Release();
}
