#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(){size_t n=1UL<<30;double t0=now();char*p=mmap(0,n,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);memset(p,1,n);double t1=now();memset(p,2,n);double t2=now();munmap(p,n);
printf("fault+memset %.3f s (%.2f us/page), memset resident %.3f s\n",t1-t0,(t1-t0)/(n/4096)*1e6,t2-t1);
double t3=now();for(int i=0;i<100000;i++)getppid();printf("syscall %.3f us\n",(now()-t3)/100000*1e6);}
