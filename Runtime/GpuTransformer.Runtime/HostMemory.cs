using System.Runtime.InteropServices;

namespace GpuTransformer.Runtime;

/// <summary>Native, 64-byte aligned host memory: the memory of the cpu and emulator accelerators.</summary>
internal sealed unsafe class HostMemory : DeviceMemory
{
    private void* pointer;

    public HostMemory(Accelerator accelerator, long bytes)
        : base(accelerator, bytes)
    {
        pointer = Accelerator.AllocateHost(bytes);
        GC.AddMemoryPressure(bytes);
    }

    ~HostMemory()
    {
        Release();
    }

    public override void* HostPointer => pointer;

    public override nint NativeHandle => 0;

    protected override void WriteCore(ReadOnlySpan<byte> source, long byteOffset) => source.CopyTo(new Span<byte>((byte*)pointer + byteOffset, source.Length));

    protected override void ReadCore(Span<byte> destination, long byteOffset) => new ReadOnlySpan<byte>((byte*)pointer + byteOffset, destination.Length).CopyTo(destination);

    public override void CopyTo(DeviceMemory destination, long sourceOffset, long destinationOffset, long bytes) =>
        Buffer.MemoryCopy((byte*)pointer + sourceOffset, (byte*)destination.HostPointer + destinationOffset, destination.Bytes - destinationOffset, bytes);

    protected override void Release()
    {
        void* p = pointer;
        pointer = null;
        if (p != null)
        {
            NativeMemory.AlignedFree(p);
            GC.RemoveMemoryPressure(Bytes);
        }
    }
}
