using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace GpuTransformer.Runtime;

/// <summary>
/// A typed window onto device memory, group-shared memory or private memory (ILGPU's <c>ArrayView&lt;T&gt;</c>).
/// Kernels take views as parameters and index them; the host creates them from <see cref="MemoryBuffer{T}"/>.
/// Indexing is bounds-checked wherever C# runs it (the emulator), and needs host-accessible memory: on a GPU
/// accelerator a view is only a handle the launcher passes to the device.
/// </summary>
/// <typeparam name="T">The element type: <see langword="float"/>, <see langword="int"/>, <see langword="uint"/> or <see langword="long"/>.</typeparam>
public readonly unsafe struct ArrayView<T> : IEquatable<ArrayView<T>>
    where T : unmanaged
{
    private readonly T* pointer;
    private readonly int length;

    /// <summary>Creates a view; <paramref name="pointer"/> is null for memory the host cannot address.</summary>
    internal ArrayView(DeviceMemory? memory, T* pointer, long offset, int length)
    {
        Memory = memory;
        this.pointer = pointer;
        Offset = offset;
        this.length = length;
    }

    /// <summary>Elements in the view.</summary>
    public int Length => length;

    /// <summary>Whether the view has no elements (also true of <c>default</c>).</summary>
    public bool IsEmpty => length == 0;

    /// <summary>Whether the host can read and write the elements (CPU and emulator memory, shared and private memory).</summary>
    public bool IsHostAccessible => pointer != null || length == 0;

    /// <summary>The allocation this view is part of; null for shared, private and default views.</summary>
    public DeviceMemory? Memory { get; }

    /// <summary>Index of the view's first element within <see cref="Memory"/>.</summary>
    public long Offset { get; }

    /// <summary>The element at <paramref name="index"/>.</summary>
    /// <param name="index">From 0 to <see cref="Length"/> - 1.</param>
    /// <exception cref="IndexOutOfRangeException">The index is outside the view.</exception>
    /// <exception cref="InvalidOperationException">The memory is not host-accessible.</exception>
    public ref T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)length)
            {
                ThrowOutOfRange(index, length);
            }

            if (pointer == null)
            {
                ThrowNotHostAccessible();
            }

            return ref pointer[index];
        }
    }

    /// <summary>The elements [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>).</summary>
    /// <param name="start">First element.</param>
    /// <param name="count">Elements.</param>
    /// <returns>A view of the same memory.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside this view.</exception>
    public ArrayView<T> SubView(int start, int count)
    {
        if ((uint)start > (uint)length || (uint)count > (uint)(length - start))
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"SubView({start}, {count}) of a view of {length} elements");
        }

        return new ArrayView<T>(Memory, pointer == null ? null : pointer + start, Offset + start, count);
    }

    /// <summary>The elements from <paramref name="start"/> to the end.</summary>
    /// <param name="start">First element.</param>
    /// <returns>A view of the same memory.</returns>
    public ArrayView<T> SubView(int start) => SubView(start, length - start);

    /// <summary>The elements as a span, for host code on CPU-side memory.</summary>
    /// <returns>A span over the view.</returns>
    /// <exception cref="InvalidOperationException">The memory is not host-accessible.</exception>
    public Span<T> AsSpan()
    {
        if (length == 0)
        {
            return default;
        }

        if (pointer == null)
        {
            ThrowNotHostAccessible();
        }

        Memory?.ThrowIfDisposed();
        return new Span<T>(pointer, length);
    }

    /// <summary>Copies the view's elements to the host, after all queued work (ILGPU's name). Host code only.</summary>
    /// <param name="destination">At least <see cref="Length"/> elements.</param>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    /// <exception cref="InvalidOperationException">The view is not part of a buffer.</exception>
    public void CopyToCPU(Span<T> destination)
    {
        if (destination.Length < length)
        {
            throw new ArgumentException($"a destination of {destination.Length} elements is too short for a view of {length}", nameof(destination));
        }

        if (length == 0)
        {
            return;
        }

        var memory = Memory ?? throw new InvalidOperationException("only views of a MemoryBuffer can be copied to the host");
        memory.ThrowIfDisposed();
        memory.Read(System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination[..length]), Offset * sizeof(T));
    }

    /// <summary>Copies host elements into the view (ILGPU's name). Host code only.</summary>
    /// <param name="source">At most <see cref="Length"/> elements, written from the view's start.</param>
    /// <exception cref="ArgumentException">The source is too long.</exception>
    /// <exception cref="InvalidOperationException">The view is not part of a buffer.</exception>
    public void CopyFromCPU(ReadOnlySpan<T> source)
    {
        if (source.Length > length)
        {
            throw new ArgumentException($"a source of {source.Length} elements does not fit a view of {length}", nameof(source));
        }

        if (source.IsEmpty)
        {
            return;
        }

        var memory = Memory ?? throw new InvalidOperationException("only views of a MemoryBuffer can be written from the host");
        memory.ThrowIfDisposed();
        memory.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(source), Offset * sizeof(T));
    }

    /// <inheritdoc />
    public bool Equals(ArrayView<T> other) => pointer == other.pointer && length == other.length && Memory == other.Memory && Offset == other.Offset;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ArrayView<T> other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine((nint)pointer, length, Memory, Offset);

    /// <summary>Whether two views are the same window onto the same memory.</summary>
    public static bool operator ==(ArrayView<T> left, ArrayView<T> right) => left.Equals(right);

    /// <summary>Whether two views differ.</summary>
    public static bool operator !=(ArrayView<T> left, ArrayView<T> right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => $"ArrayView<{typeof(T).Name}>[{length}]";

    [DoesNotReturn]
    private static void ThrowOutOfRange(int index, int length) =>
        throw new IndexOutOfRangeException($"index {index} is outside an ArrayView<{typeof(T).Name}> of {length} elements");

    [DoesNotReturn]
    private static void ThrowNotHostAccessible() =>
        throw new InvalidOperationException($"this ArrayView<{typeof(T).Name}> is device memory the host cannot address; copy it with MemoryBuffer.CopyTo");
}
