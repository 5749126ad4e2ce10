namespace GpuTransformer.Runtime.Cuda;

/// <summary>
/// A <c>cuMemAlloc</c> allocation. The host cannot address it (<see cref="HostPointer"/> is null); copies go through
/// the accelerator's pinned staging buffer and stream. There is no finalizer: freeing device memory needs the
/// context current on the freeing thread, which a finalizer cannot promise, and releasing the accelerator's primary
/// context frees whatever was leaked.
/// </summary>
internal sealed unsafe class CudaMemory : DeviceMemory
{
    private readonly CudaAccelerator owner;

    public CudaMemory(CudaAccelerator owner, ulong devicePointer, long bytes)
        : base(owner, bytes)
    {
        this.owner = owner;
        DevicePointer = devicePointer;
    }

    /// <summary>The <c>CUdeviceptr</c>.</summary>
    public ulong DevicePointer { get; }

    public override void* HostPointer => null;

    public override nint NativeHandle => (nint)DevicePointer;

    public override void CopyTo(DeviceMemory destination, long sourceOffset, long destinationOffset, long bytes) =>
        owner.CopyDeviceToDevice(DevicePointer + (ulong)sourceOffset, ((CudaMemory)destination).DevicePointer + (ulong)destinationOffset, bytes);

    protected override void WriteCore(ReadOnlySpan<byte> source, long byteOffset) => owner.Upload(source, DevicePointer + (ulong)byteOffset);

    protected override void ReadCore(Span<byte> destination, long byteOffset) => owner.Download(DevicePointer + (ulong)byteOffset, destination);

    protected override void Release() => owner.Free(DevicePointer);
}
