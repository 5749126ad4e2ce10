namespace GpuTransformer.Runtime.Emulator;

/// <summary>
/// The threads that run the work-items of synchronising kernels: one thread per work-item of a group, kept between
/// launches (starting hundreds of threads per launch would cost more than the kernels). Grows to the largest group
/// size launched; each thread owns its <see cref="LaneContext"/>.
/// </summary>
internal sealed class LaneCrew : IDisposable
{
    private readonly List<Lane> lanes = [];
    private readonly GroupState group = new();
    private CountdownEvent? finished;
    private IEmulatedLaunch? launch;
    private bool disposed;

    public void Run(IEmulatedLaunch work)
    {
        int size = work.Dimensions.GroupSize;
        while (lanes.Count < size)
        {
            lanes.Add(new Lane(this, lanes.Count));
        }

        work.PrepareGroup(group);
        group.PoisonShared();
        launch = work;
        using var done = new CountdownEvent(size);
        finished = done;
        for (int i = 0; i < size; i++)
        {
            lanes[i].Start.Release();
        }

        done.Wait();
        launch = null;
        finished = null;
    }

    public void Dispose()
    {
        disposed = true;
        foreach (var lane in lanes)
        {
            lane.Start.Release();
        }

        group.Dispose();
    }

    private sealed class Lane
    {
        private readonly LaneCrew crew;
        private readonly int index;

        public Lane(LaneCrew crew, int index)
        {
            this.crew = crew;
            this.index = index;
            var thread = new Thread(Loop, 256 * 1024) { IsBackground = true, Name = $"GpuTransformer emulator lane {index}" };
            thread.Start();
        }

        public SemaphoreSlim Start { get; } = new(0);

        private void Loop()
        {
            using var context = new LaneContext();
            while (true)
            {
                Start.Wait();
                if (crew.disposed)
                {
                    return;
                }

                crew.launch!.RunLane(index, context, crew.group);
                crew.finished!.Signal();
            }
        }
    }
}
