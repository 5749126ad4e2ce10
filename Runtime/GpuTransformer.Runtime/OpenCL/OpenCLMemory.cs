namespace GpuTransformer.Runtime.OpenCL;

/// <summary>
/// A <c>cl_mem</c> buffer of an <see cref="OpenCLAccelerator"/>. The host cannot address it, so
/// <see cref="HostPointer"/> is null and views of it are reached only through copies and kernels.
/// </summary>
internal sealed unsafe class OpenCLMemory : DeviceMemory
{
    private readonly OpenCLAccelerator owner;
    private nint buffer;

    public OpenCLMemory(OpenCLAccelerator accelerator, long bytes)
        : base(accelerator, bytes)
    {
        owner = accelerator;
        buffer = accelerator.CreateBuffer(bytes);
    }

    // A buffer whose owner forgot to dispose it still returns its device memory when collected; OpenCL objects may be
    // released from any thread, and a cl_mem keeps its context alive, so this is safe after the accelerator is gone.
    ~OpenCLMemory()
    {
        Release();
    }

    public override void* HostPointer => null;

    public override nint NativeHandle => buffer;

    public override void CopyTo(DeviceMemory destination, long sourceOffset, long destinationOffset, long bytes)
    {
        if (destination is not OpenCLMemory target || target.owner != owner)
        {
            throw new ArgumentException($"the destination is not memory of {owner.Id}", nameof(destination));
        }

        CheckRange(sourceOffset, bytes);
        target.CheckRange(destinationOffset, bytes);
        if (bytes > 0)
        {
            owner.EnqueueCopy(buffer, target.buffer, sourceOffset, destinationOffset, bytes);
        }
    }

    protected override void WriteCore(ReadOnlySpan<byte> source, long byteOffset)
    {
        CheckRange(byteOffset, source.Length);
        if (source.Length > 0)
        {
            fixed (byte* p = source)
            {
                owner.EnqueueWrite(buffer, byteOffset, source.Length, p);
            }
        }
    }

    protected override void ReadCore(Span<byte> destination, long byteOffset)
    {
        CheckRange(byteOffset, destination.Length);
        if (destination.Length > 0)
        {
            fixed (byte* p = destination)
            {
                owner.EnqueueRead(buffer, byteOffset, destination.Length, p);
            }
        }
    }

    protected override void Release()
    {
        nint b = Interlocked.Exchange(ref buffer, 0);
        if (b != 0)
        {
            owner.ReleaseBuffer(b);
        }
    }

    private void CheckRange(long byteOffset, long count)
    {
        if (byteOffset < 0 || count < 0 || count > Bytes - byteOffset)
        {
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"bytes [{byteOffset}, {byteOffset + count}) are outside an allocation of {Bytes}");
        }
    }
}
