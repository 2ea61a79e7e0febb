// The load for bench/ringbuf: after one byte on stdin, write(2) one byte to /dev/null N times.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	char c = 'x';
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0 || read(0, &c, 1) != 1)
		return 2;
	for (long i = 0; i < n; i++)
		if (write(fd, &c, 1) != 1)
			return 3;
	return 0;
}
